terraform {
  required_providers {
    certusordo = {
      source  = "registry.terraform.io/certusordo/certusordo"
      version = "~> 0.1"
    }
  }
}

# Prefer the environment for credentials:
#   export CERTUSORDO_ENDPOINT=https://certusordo.example.com
#   export CERTUSORDO_API_KEY=aa_...
provider "certusordo" {}

# Or configure explicitly (keep the key out of source control):
# provider "certusordo" {
#   endpoint = "https://certusordo.example.com"
#   api_key  = var.certusordo_api_key
# }

# Plain http:// is accepted only for loopback (127.0.0.0/8, ::1, localhost). For another host on a
# network you trust, opt in explicitly (or set CERTUSORDO_INSECURE=1):
# provider "certusordo" {
#   endpoint = "http://certusordo.internal:8080"
#   insecure = true
# }
