variable "name" {
  description = "Prefix of every name (e.g. medvault-prod)."
  type        = string
}

variable "selection_tag" {
  description = <<-EOT
    Resources carrying this tag key with the value "true" are backed up (the SAM template tags its tables and
    buckets with it), so the plan follows the stack without listing ARNs here.
  EOT
  type        = string
  default     = "medvault:backup"
}

variable "schedule" {
  description = "When the daily backup starts (AWS Backup cron, UTC)."
  type        = string
  default     = "cron(0 5 ? * * *)"
}

variable "delete_after_days" {
  description = "Days each recovery point is kept."
  type        = number
  default     = 35
}

variable "vault_lock" {
  description = <<-EOT
    Vault Lock: recovery points cannot be deleted before min_retention_days, and no plan may keep them longer than
    max_retention_days. changeable_for_days set: compliance mode, immutable once that many days (3 or more) have
    passed; null: governance mode (removable by principals allowed to).
  EOT
  type = object({
    min_retention_days  = number
    max_retention_days  = number
    changeable_for_days = optional(number)
  })
  default = {
    min_retention_days  = 7
    max_retention_days  = 2555
    changeable_for_days = null
  }

  validation {
    condition     = var.vault_lock.changeable_for_days == null || coalesce(var.vault_lock.changeable_for_days, 3) >= 3
    error_message = "changeable_for_days is at least 3 (AWS's minimum grace period), or null for governance mode."
  }
}

variable "copy_to_vault_arn" {
  description = "A vault in another region or account to copy each recovery point to (disaster recovery); null: none."
  type        = string
  default     = null
}

variable "failure_events" {
  description = "Vault events published to the notifications topic."
  type        = list(string)
  default     = ["BACKUP_JOB_FAILED", "COPY_JOB_FAILED", "RESTORE_JOB_FAILED", "S3_BACKUP_OBJECT_FAILED", "S3_RESTORE_OBJECT_FAILED"]
}
