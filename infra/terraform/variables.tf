variable "environment" {
  description = "dev, staging or prod; it names everything (medvault-<environment>) and matches samconfig.toml's config-env."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment is dev, staging or prod."
  }
}

variable "region" {
  description = "The region of the foundation and of the SAM stack (they must match: endpoints and WAF are regional)."
  type        = string
}

variable "allowed_account_ids" {
  description = "The AWS account(s) this environment may be applied to."
  type        = list(string)
}

variable "vpc_cidr" {
  description = "The VPC's range."
  type        = string
  default     = "10.40.0.0/16"
}

variable "availability_zone_count" {
  description = "Private subnets, one per zone."
  type        = number
  default     = 3
}

variable "interface_endpoints" {
  description = "Interface endpoint services (see modules/network)."
  type        = list(string)
  default     = ["sqs", "kms", "secretsmanager", "logs", "sts", "xray", "events", "sns"]
}

variable "alb_ingress_cidrs" {
  description = "Networks that may reach the internal ALB (default: the VPC)."
  type        = list(string)
  default     = []
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Per-IP request limit of the web ACL."
  type        = number
  default     = 2000
}

variable "log_retention_days" {
  description = "Days flow, WAF and trail logs stay in CloudWatch Logs, and access logs in S3."
  type        = number
  default     = 400
}

variable "trail_object_lock" {
  description = "Object Lock of the CloudTrail bucket."
  type = object({
    mode = string
    days = number
  })
  default = {
    mode = "COMPLIANCE"
    days = 2190
  }
}

variable "backup" {
  description = "Recovery point retention, Vault Lock and an optional cross-region copy."
  type = object({
    delete_after_days   = number
    min_retention_days  = number
    max_retention_days  = number
    changeable_for_days = optional(number)
    copy_to_vault_arn   = optional(string)
  })
  default = {
    delete_after_days  = 35
    min_retention_days = 7
    max_retention_days = 2555
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` empty buckets (dev only)."
  type        = bool
  default     = false
}
