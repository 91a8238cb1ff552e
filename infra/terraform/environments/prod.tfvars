environment                  = "prod"
region                       = "us-east-1"
allowed_account_ids          = ["333333333333"] # replace with the prod account
vpc_cidr                     = "10.42.0.0/16"
availability_zone_count      = 3
waf_rate_limit_per_5_minutes = 2000
log_retention_days           = 731

# Six years of audit trail that nobody, root included, can shorten.
trail_object_lock = { mode = "COMPLIANCE", days = 2190 }

# Vault Lock turns to compliance mode three days after the first apply; until then it can still be changed.
backup = {
  delete_after_days   = 35
  min_retention_days  = 7
  max_retention_days  = 2555
  changeable_for_days = 3
  # copy_to_vault_arn = "arn:aws:backup:us-west-2:333333333333:backup-vault:medvault-prod-dr"
}
