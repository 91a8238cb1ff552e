# `terraform test` with a mocked AWS provider: no credentials, no network (the provider plugin must be installed,
# e.g. `terraform init -backend=false -plugin-dir=...`). Each run applies one module against the mock and asserts
# on what it would create.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_availability_zones" {
    defaults = { names = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"] }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_elb_service_account" {
    defaults = { arn = "arn:aws:iam::127311923021:root" }
  }

  # Mocked values are random strings; ARNs referenced by other resources must look like ARNs.
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/mock" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_wafv2_web_acl" {
    defaults = { arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/mock/1" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mock" }
  }
  mock_resource "aws_backup_vault" {
    defaults = { arn = "arn:aws:backup:us-east-1:123456789012:backup-vault:mock" }
  }
  mock_resource "aws_cloudtrail" {
    defaults = { arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/mock" }
  }
}

variables {
  environment         = "prod"
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

run "root_outputs_name_every_sam_parameter" {
  command = apply

  assert {
    condition = toset(keys(output.sam_parameters)) == toset([
      "VpcSubnetIds", "FunctionSecurityGroupId", "AlbSecurityGroupId", "AlbAccessLogsBucket", "WebAclArn",
      "BackupVaultName", "BackupSelectionTag", "CloudTrailLogGroupName",
    ])
    error_message = "sam_parameters must hold exactly the parameters samconfig.toml fills FROM_TERRAFORM"
  }
  assert {
    condition     = length(split(",", output.sam_parameters.VpcSubnetIds)) == 3
    error_message = "one private subnet per availability zone, comma-joined for SAM"
  }
  assert {
    condition     = output.backup_vault_name == "medvault-prod-vault"
    error_message = "resources are named medvault-<environment>"
  }
  assert {
    condition     = strcontains(output.sam_parameter_overrides, "BackupSelectionTag=medvault:backup")
    error_message = "sam_parameter_overrides are Key=Value words"
  }
}

run "network_has_private_subnets_only_and_every_endpoint" {
  command = apply
  module {
    source = "./modules/network"
  }
  variables {
    name = "medvault-test"
  }

  assert {
    condition     = length(aws_subnet.private) == 3 && alltrue([for s in aws_subnet.private : !s.map_public_ip_on_launch])
    error_message = "three private subnets, none giving public addresses"
  }
  assert {
    condition = toset(keys(aws_vpc_endpoint.interface)) == toset(
    ["sqs", "kms", "secretsmanager", "logs", "sts", "xray", "events", "sns"])
    error_message = "an interface endpoint for every service the functions call"
  }
  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.dynamodb.vpc_endpoint_type == "Gateway"
    error_message = "S3 and DynamoDB through gateway endpoints"
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.private_dns_enabled])
    error_message = "interface endpoints answer the services' public names (private DNS)"
  }
  assert {
    condition     = aws_flow_log.vpc.traffic_type == "ALL"
    error_message = "flow logs record accepted and rejected traffic"
  }
}

run "network_refuses_a_range_too_small_for_its_subnets" {
  command = plan
  module {
    source = "./modules/network"
  }
  variables {
    name       = "medvault-test"
    cidr_block = "10.0.0.0/24"
  }
  expect_failures = [var.cidr_block]
}

run "trail_records_s3_and_dynamodb_data_events_into_a_locked_bucket" {
  command = apply
  module {
    source = "./modules/audit-trail"
  }
  variables {
    name                    = "medvault-test"
    access_logs_bucket_name = "medvault-test-access-logs"
    excluded_bucket_arns    = ["arn:aws:s3:::medvault-test-access-logs"]
  }

  assert {
    condition     = aws_s3_bucket.trail.object_lock_enabled
    error_message = "the trail bucket is created with Object Lock"
  }
  assert {
    condition = (
      aws_s3_bucket_object_lock_configuration.trail.rule[0].default_retention[0].mode == "COMPLIANCE" &&
      aws_s3_bucket_object_lock_configuration.trail.rule[0].default_retention[0].days == 2190
    )
    error_message = "six years in compliance mode by default"
  }
  assert {
    condition = toset(flatten([
      for selector in aws_cloudtrail.this.advanced_event_selector : [
        for field in selector.field_selector : field.equals if field.field == "resources.type"
      ]
    ])) == toset(["AWS::S3::Object", "AWS::DynamoDB::Table"])
    error_message = "data events for S3 objects and DynamoDB items"
  }
  assert {
    condition = contains(flatten([
      for selector in aws_cloudtrail.this.advanced_event_selector : [
        for field in selector.field_selector : coalesce(field.not_starts_with, []) if field.field == "resources.ARN"
      ]
    ]), "arn:aws:s3:::medvault-test-access-logs/")
    error_message = "the log buckets' own object events are left out"
  }
  assert {
    condition = (
      aws_cloudtrail.this.is_multi_region_trail && aws_cloudtrail.this.enable_log_file_validation &&
      aws_cloudtrail.this.kms_key_id == aws_kms_key.trail.arn
    )
    error_message = "multi-region, validated, KMS-encrypted"
  }
}

run "trail_refuses_an_unknown_lock_mode" {
  command = plan
  module {
    source = "./modules/audit-trail"
  }
  variables {
    name                    = "medvault-test"
    access_logs_bucket_name = "medvault-test-access-logs"
    object_lock_mode        = "NONE"
  }
  expect_failures = [var.object_lock_mode]
}

run "waf_rate_limits_first_and_only_counts_the_8_kb_body_rule" {
  command = apply
  module {
    source = "./modules/waf"
  }
  variables {
    name = "medvault-test"
  }

  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.priority if r.name == "rate-limit-per-ip"]) == 0
    error_message = "the per-IP rate limit is evaluated first"
  }
  assert {
    condition = toset([
      for r in aws_wafv2_web_acl.this.rule : r.name if r.name != "rate-limit-per-ip"
      ]) == toset(["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"])
    error_message = "the managed rule groups"
  }
  assert {
    condition = flatten([
      for r in aws_wafv2_web_acl.this.rule : [
        for o in r.statement[0].managed_rule_group_statement[0].rule_action_override : o.name
      ] if r.name == "AWSManagedRulesCommonRuleSet"
    ]) == ["SizeRestrictions_BODY"]
    error_message = "only the 8 KB body rule is overridden (to count)"
  }
  assert {
    condition     = length(aws_wafv2_web_acl_logging_configuration.this.redacted_fields) == 2
    error_message = "authorization and cookie headers are redacted from WAF logs"
  }
}

run "backup_selects_by_tag_and_locks_the_vault" {
  command = apply
  module {
    source = "./modules/backup"
  }
  variables {
    name = "medvault-test"
  }

  assert {
    condition     = one(aws_backup_selection.tagged.selection_tag).key == "medvault:backup"
    error_message = "resources join the plan by tag"
  }
  assert {
    condition     = aws_backup_vault_lock_configuration.this.min_retention_days == 7
    error_message = "recovery points cannot be deleted for a week"
  }
  assert {
    condition     = aws_backup_vault.this.kms_key_arn == aws_kms_key.backup.arn
    error_message = "the vault is encrypted with its own key"
  }
}
