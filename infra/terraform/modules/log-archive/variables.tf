variable "name" {
  description = "Prefix of every name (e.g. medvault-prod); bucket names add the account id and region."
  type        = string
}

variable "access_log_retention_days" {
  description = "Days S3 server access logs and ALB access logs are kept."
  type        = number
  default     = 400
}

variable "force_destroy" {
  description = "Let `terraform destroy` empty the buckets (dev only; never for environments holding PHI)."
  type        = bool
  default     = false
}
