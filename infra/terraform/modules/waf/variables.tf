variable "name" {
  description = "Prefix of every name (e.g. medvault-prod)."
  type        = string
}

variable "rate_limit_per_5_minutes" {
  description = "Requests one client IP may make in any 5-minute window before WAF blocks it."
  type        = number
  default     = 2000

  validation {
    condition     = var.rate_limit_per_5_minutes >= 10
    error_message = "AWS WAF's smallest rate limit is 10 requests per 5 minutes."
  }
}

variable "log_retention_days" {
  description = "Days WAF logs are kept."
  type        = number
  default     = 400

  validation {
    condition     = var.log_retention_days >= 365
    error_message = "Keep WAF logs at least a year (checkov CKV_AWS_338)."
  }
}
