environment             = "dev"
region                  = "us-east-1"
allowed_account_ids     = ["111111111111"] # replace with the dev account
vpc_cidr                = "10.40.0.0/16"
availability_zone_count = 2
force_destroy           = true

# Dev holds synthetic data only: a short, changeable lock.
trail_object_lock = { mode = "GOVERNANCE", days = 30 }
backup = {
  delete_after_days  = 7
  min_retention_days = 1
  max_retention_days = 35
}
