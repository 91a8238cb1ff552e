terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }

  # State in S3 with native locking; each environment passes its own settings:
  #   terraform init -backend-config=environments/prod.s3.tfbackend
  backend "s3" {}
}

provider "aws" {
  region = var.region

  # Deploying prod with dev credentials (or the reverse) stops here rather than half-way through.
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = {
      project     = "medvault"
      environment = var.environment
      managed-by  = "terraform"
    }
  }
}
