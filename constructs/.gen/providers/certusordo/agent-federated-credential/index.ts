// https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_federated_credential
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface AgentFederatedCredentialAConfig extends cdktf.TerraformMetaArguments {
  /**
  * Id of the agent, usually `certusordo_agent.<name>.id`. Changing it replaces the credential.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_federated_credential#agent_id AgentFederatedCredentialA#agent_id}
  */
  readonly agentId: string;
  /**
  * A value the platform token's `aud` must contain; default: the organization's issuer URL (`<public url>/orgs/<organization id>`). A custom audience must be the control plane's public URL or start with it followed by `/`, and may not name another organization's issuer. Unset: the default, known after apply. Changing it replaces the credential (the API has no update).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_federated_credential#audience AgentFederatedCredentialA#audience}
  */
  readonly audience?: string;
  /**
  * JSON object (write it with `jsonencode`) of further top-level claims the platform token must carry with exactly these JSON values; at most 20, names of 1-64 characters other than iss, sub, aud, exp, nbf, iat, jti, values of at most 1024 characters of JSON. Compared as JSON, so formatting never shows as a change. Unset: no further claims. Changing it replaces the credential (the API has no update).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_federated_credential#claims_json AgentFederatedCredentialA#claims_json}
  */
  readonly claimsJson?: string;
  /**
  * Issuer of the workload's platform token: an `https` URL of at most 512 characters, without user info, query or fragment, equal to the platform token's `iss`; when `jwks` is omitted the issuer's keys are fetched from `<issuer>/.well-known/openid-configuration`, so it must not be a loopback, private or link-local address (unless the server runs with `CERTUSORDO_FEDERATION_ALLOW_PRIVATE_NETWORKS=1`) and never a cloud metadata address. Changing it replaces the credential (the API has no update).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_federated_credential#issuer AgentFederatedCredentialA#issuer}
  */
  readonly issuer: string;
  /**
  * JSON text of the issuer's public keys inline (a JWK Set of at most 10 keys: RSA of at least 2048 bits, EC P-256 or OKP Ed25519, public members only); for an issuer the control plane cannot reach. Omitted: fetched by OpenID discovery. Compared as JSON. Changing it replaces the credential (the API has no update).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_federated_credential#jwks AgentFederatedCredentialA#jwks}
  */
  readonly jwks?: string;
  /**
  * The workload: 1-512 characters, equal to the platform token's `sub`. Changing it replaces the credential (the API has no update).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_federated_credential#subject AgentFederatedCredentialA#subject}
  */
  readonly subject: string;
}

/**
* Represents a {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_federated_credential certusordo_agent_federated_credential}
*/
export class AgentFederatedCredentialA extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "certusordo_agent_federated_credential";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a AgentFederatedCredentialA resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the AgentFederatedCredentialA to import
  * @param importFromId The id of the existing AgentFederatedCredentialA that should be imported. Refer to the {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_federated_credential#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the AgentFederatedCredentialA to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "certusordo_agent_federated_credential", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_federated_credential certusordo_agent_federated_credential} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options AgentFederatedCredentialAConfig
  */
  public constructor(scope: Construct, id: string, config: AgentFederatedCredentialAConfig) {
    super(scope, id, {
      terraformResourceType: 'certusordo_agent_federated_credential',
      terraformGeneratorMetadata: {
        providerName: 'certusordo',
        providerVersionConstraint: '~> 0.1'
      },
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach
    });
    this._agentId = config.agentId;
    this._audience = config.audience;
    this._claimsJson = config.claimsJson;
    this._issuer = config.issuer;
    this._jwks = config.jwks;
    this._subject = config.subject;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // agent_id - computed: false, optional: false, required: true
  private _agentId?: string; 
  public get agentId() {
    return this.getStringAttribute('agent_id');
  }
  public set agentId(value: string) {
    this._agentId = value;
  }
  // Temporarily expose input value. Use with caution.
  public get agentIdInput() {
    return this._agentId;
  }

  // audience - computed: true, optional: true, required: false
  private _audience?: string; 
  public get audience() {
    return this.getStringAttribute('audience');
  }
  public set audience(value: string) {
    this._audience = value;
  }
  public resetAudience() {
    this._audience = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get audienceInput() {
    return this._audience;
  }

  // claims_json - computed: false, optional: true, required: false
  private _claimsJson?: string; 
  public get claimsJson() {
    return this.getStringAttribute('claims_json');
  }
  public set claimsJson(value: string) {
    this._claimsJson = value;
  }
  public resetClaimsJson() {
    this._claimsJson = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get claimsJsonInput() {
    return this._claimsJson;
  }

  // created_at - computed: true, optional: false, required: false
  public get createdAt() {
    return this.getStringAttribute('created_at');
  }

  // credential_id - computed: true, optional: false, required: false
  public get credentialId() {
    return this.getStringAttribute('credential_id');
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // issuer - computed: false, optional: false, required: true
  private _issuer?: string; 
  public get issuer() {
    return this.getStringAttribute('issuer');
  }
  public set issuer(value: string) {
    this._issuer = value;
  }
  // Temporarily expose input value. Use with caution.
  public get issuerInput() {
    return this._issuer;
  }

  // jwks - computed: false, optional: true, required: false
  private _jwks?: string; 
  public get jwks() {
    return this.getStringAttribute('jwks');
  }
  public set jwks(value: string) {
    this._jwks = value;
  }
  public resetJwks() {
    this._jwks = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get jwksInput() {
    return this._jwks;
  }

  // subject - computed: false, optional: false, required: true
  private _subject?: string; 
  public get subject() {
    return this.getStringAttribute('subject');
  }
  public set subject(value: string) {
    this._subject = value;
  }
  // Temporarily expose input value. Use with caution.
  public get subjectInput() {
    return this._subject;
  }

  // =========
  // SYNTHESIS
  // =========

  protected override synthesizeAttributes(): { [name: string]: any } {
    return {
      agent_id: cdktf.stringToTerraform(this._agentId),
      audience: cdktf.stringToTerraform(this._audience),
      claims_json: cdktf.stringToTerraform(this._claimsJson),
      issuer: cdktf.stringToTerraform(this._issuer),
      jwks: cdktf.stringToTerraform(this._jwks),
      subject: cdktf.stringToTerraform(this._subject),
    };
  }

  protected override synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      agent_id: {
        value: cdktf.stringToHclTerraform(this._agentId),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      audience: {
        value: cdktf.stringToHclTerraform(this._audience),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      claims_json: {
        value: cdktf.stringToHclTerraform(this._claimsJson),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      issuer: {
        value: cdktf.stringToHclTerraform(this._issuer),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      jwks: {
        value: cdktf.stringToHclTerraform(this._jwks),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      subject: {
        value: cdktf.stringToHclTerraform(this._subject),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
