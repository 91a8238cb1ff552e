variable "name" {
  description = "Prefix of every name and Name tag (e.g. medvault-prod)."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's IPv4 range; each private subnet takes a /20 of it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 20
    error_message = "cidr_block must be an IPv4 CIDR of /20 or larger (each subnet is four bits longer)."
  }
}

variable "availability_zone_count" {
  description = "How many availability zones get a private subnet (Lambda spreads across them)."
  type        = number
  default     = 3

  validation {
    condition     = var.availability_zone_count >= 2 && var.availability_zone_count <= 6
    error_message = "availability_zone_count must be between 2 and 6."
  }
}

variable "interface_endpoints" {
  description = <<-EOT
    AWS services reached through interface endpoints (private DNS on), by endpoint service suffix. The defaults are
    what medvault's functions call; add "textract" and "transcribe" when the cloud OCR/ASR engines are on, and
    "monitoring" if a function calls the CloudWatch API. DynamoDB and S3 always get gateway endpoints.
  EOT
  type        = list(string)
  default     = ["sqs", "kms", "secretsmanager", "logs", "sts", "xray", "events", "sns"]
}

variable "alb_ingress_cidrs" {
  description = "Networks allowed to reach the optional internal ALB on 443 (defaults to the VPC itself)."
  type        = list(string)
  default     = []
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs are kept in CloudWatch Logs."
  type        = number
  default     = 400

  validation {
    condition     = var.flow_log_retention_days >= 365
    error_message = "Keep flow logs at least a year (HIPAA audit controls; checkov CKV_AWS_338)."
  }
}
