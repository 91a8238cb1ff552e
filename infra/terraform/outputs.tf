# Every output SAM takes is also in sam_parameters, keyed by the template's parameter name, so that deploy tooling
# fills samconfig.toml's FROM_TERRAFORM placeholders from one map (.github/scripts/sam_parameters.py).

locals {
  sam_parameters = {
    VpcSubnetIds            = join(",", module.network.private_subnet_ids)
    FunctionSecurityGroupId = module.network.function_security_group_id
    AlbSecurityGroupId      = module.network.alb_security_group_id
    AlbAccessLogsBucket     = module.log_archive.alb_logs_bucket_name
    WebAclArn               = module.waf.web_acl_arn
    BackupVaultName         = module.backup.vault_name
    BackupSelectionTag      = module.backup.selection_tag
    CloudTrailLogGroupName  = module.audit_trail.log_group_name
  }
}

output "sam_parameters" {
  description = "SAM template parameters from the foundation, by parameter name."
  value       = local.sam_parameters
}

output "sam_parameter_overrides" {
  description = "The same as `Key=Value` words, for `sam deploy --parameter-overrides`."
  value       = join(" ", [for key, value in local.sam_parameters : "${key}=${value}"])
}

output "vpc_id" {
  description = "The VPC."
  value       = module.network.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets (SAM: VpcSubnetIds)."
  value       = module.network.private_subnet_ids
}

output "function_security_group_id" {
  description = "Security group of every function (SAM: FunctionSecurityGroupId)."
  value       = module.network.function_security_group_id
}

output "alb_security_group_id" {
  description = "Security group of the internal ALB (SAM: AlbSecurityGroupId)."
  value       = module.network.alb_security_group_id
}

output "alb_access_logs_bucket" {
  description = "ALB access log bucket (SAM: AlbAccessLogsBucket)."
  value       = module.log_archive.alb_logs_bucket_name
}

output "web_acl_arn" {
  description = "WAF web ACL (SAM: WebAclArn)."
  value       = module.waf.web_acl_arn
}

output "backup_vault_name" {
  description = "Backup vault (SAM: BackupVaultName)."
  value       = module.backup.vault_name
}

output "backup_notifications_topic_arn" {
  description = "Failed backup, copy and restore jobs are published here."
  value       = module.backup.notifications_topic_arn
}

output "cloudtrail_bucket" {
  description = "Object Lock bucket holding the trail."
  value       = module.audit_trail.bucket_name
}

output "cloudtrail_log_group_name" {
  description = "CloudWatch Logs copy of the trail (SAM: CloudTrailLogGroupName)."
  value       = module.audit_trail.log_group_name
}
