terraform {
  required_version = ">= 1.6"

  required_providers {
    google = {
      source = "hashicorp/google"
      # The major version scripts/validate-infra validates and plans
      # against (built from source: 8.0.0).
      version = "~> 8.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Partial configuration: scripts/deploy creates the state bucket and runs
  #   terraform init -backend-config="bucket=<project>-hookrun-tfstate" -backend-config="prefix=infra"
  # For a look without a bucket: terraform init -backend=false.
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = merge({ app = "hookrun" }, var.labels)
}
