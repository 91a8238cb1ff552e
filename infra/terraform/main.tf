# medvault's account foundation: what the SAM stack (template.yaml) runs inside of but does not own.
# Apply this first; its outputs are parameters of `sam deploy` (README.md, "How Terraform and SAM fit together").

locals {
  name = "medvault-${var.environment}"
}

module "network" {
  source                  = "./modules/network"
  name                    = local.name
  cidr_block              = var.vpc_cidr
  availability_zone_count = var.availability_zone_count
  interface_endpoints     = var.interface_endpoints
  alb_ingress_cidrs       = var.alb_ingress_cidrs
  flow_log_retention_days = var.log_retention_days
}

module "log_archive" {
  source                    = "./modules/log-archive"
  name                      = local.name
  access_log_retention_days = var.log_retention_days
  force_destroy             = var.force_destroy
}

module "waf" {
  source                   = "./modules/waf"
  name                     = local.name
  rate_limit_per_5_minutes = var.waf_rate_limit_per_5_minutes
  log_retention_days       = var.log_retention_days
}

module "backup" {
  source            = "./modules/backup"
  name              = local.name
  delete_after_days = var.backup.delete_after_days
  vault_lock = {
    min_retention_days  = var.backup.min_retention_days
    max_retention_days  = var.backup.max_retention_days
    changeable_for_days = var.backup.changeable_for_days
  }
  copy_to_vault_arn = var.backup.copy_to_vault_arn
}

module "audit_trail" {
  source                  = "./modules/audit-trail"
  name                    = local.name
  access_logs_bucket_name = module.log_archive.access_logs_bucket_name
  excluded_bucket_arns    = [module.log_archive.access_logs_bucket_arn, module.log_archive.alb_logs_bucket_arn]
  object_lock_mode        = var.trail_object_lock.mode
  object_lock_days        = var.trail_object_lock.days
  log_retention_days      = var.log_retention_days
  force_destroy           = var.force_destroy
}
