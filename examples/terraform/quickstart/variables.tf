variable "services" {
  description = "One agent per service: the service's name and the scopes its agent may use."
  type        = map(list(string))
  default = {
    billing = ["billing:read", "billing:write"]
    reports = ["reports:read"]
    support = ["tickets:read", "tickets:write"]
  }
}

variable "key_rotation" {
  description = "Change this value (a date, a ticket number) to rotate the billing service's key."
  type        = string
  default     = "initial"
}
