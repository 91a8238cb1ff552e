variable "name" {
  description = "Prefix of every name (e.g. medvault-prod); the trail is <name>-trail."
  type        = string
}

variable "access_logs_bucket_name" {
  description = "Target bucket for the trail bucket's S3 server access logs (module log-archive)."
  type        = string
}

variable "object_lock_mode" {
  description = "COMPLIANCE (nobody, root included, can shorten or remove the lock) or GOVERNANCE (principals with s3:BypassGovernanceRetention can)."
  type        = string
  default     = "COMPLIANCE"

  validation {
    condition     = contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock_mode)
    error_message = "object_lock_mode is COMPLIANCE or GOVERNANCE."
  }
}

variable "object_lock_days" {
  description = "Days each log file is locked. HIPAA asks for six years of documentation (2190 days)."
  type        = number
  default     = 2190
}

variable "log_retention_days" {
  description = "Days the trail's copy in CloudWatch Logs is kept (the S3 copy follows object_lock_days)."
  type        = number
  default     = 400

  validation {
    condition     = var.log_retention_days >= 365
    error_message = "Keep the trail in CloudWatch Logs at least a year (checkov CKV_AWS_338)."
  }
}

variable "s3_data_event_bucket_arns" {
  description = <<-EOT
    Buckets whose object-level (data) events are recorded, as ARNs. Empty: every bucket of the account except the
    trail's own and the access-log buckets (recording them would log the logging).
  EOT
  type        = list(string)
  default     = []
}

variable "excluded_bucket_arns" {
  description = "Buckets left out of S3 data events when s3_data_event_bucket_arns is empty (the access-log buckets)."
  type        = list(string)
  default     = []
}

variable "force_destroy" {
  description = "Let `terraform destroy` empty the bucket (locked objects still cannot be deleted before their date)."
  type        = bool
  default     = false
}
