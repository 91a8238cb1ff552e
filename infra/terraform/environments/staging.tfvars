environment             = "staging"
region                  = "us-east-1"
allowed_account_ids     = ["222222222222"] # replace with the staging account
vpc_cidr                = "10.41.0.0/16"
availability_zone_count = 3

trail_object_lock = { mode = "GOVERNANCE", days = 365 }
backup = {
  delete_after_days  = 35
  min_retention_days = 7
  max_retention_days = 400
}
