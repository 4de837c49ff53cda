// https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface AgentConfig extends cdktf.TerraformMetaArguments {
  /**
  * String key/value pairs: at most 50 keys of 1-64 characters, with string values of at most 1024 characters. Defaults to an empty map. Replaced as a whole on update, in place.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#metadata Agent#metadata}
  */
  readonly metadata?: { [key: string]: string };
  /**
  * Human-readable name, unique among the organization's non-revoked agents. 1-64 characters: letters, digits, `.`, `_` and `-`, starting with a letter or digit. Updated in place.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#name Agent#name}
  */
  readonly name: string;
  /**
  * An Ed25519 public key: base64url (no padding) of the 32 raw bytes, 43 characters. Set it to bring your own key (then no `secret` is issued); leave it unset to let the control plane generate a key pair, unless the agent declares `federated_credential` blocks: then it has no key (null) and no secret. Changing it replaces the agent.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#public_key Agent#public_key}
  */
  readonly publicKey?: string;
  /**
  * Arbitrary map of values that, when changed, replaces the agent (and so rotates its key), like `keepers` in the `random` provider. Setting it for the first time (for example after `terraform import`) only records it.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#rotation_trigger Agent#rotation_trigger}
  */
  readonly rotationTrigger?: { [key: string]: string };
  /**
  * Permitted operations, each `resource:action` in lowercase letters, digits, `_`, `-` and `.` (for example `payments:read`), a single segment (`read`), or `resource:*`; at most 200 characters; at most 100 scopes; duplicates are removed. Defaults to an empty set. Updated in place.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#scopes Agent#scopes}
  */
  readonly scopes?: string[];
  /**
  * `active` or `suspended`; to revoke an agent, destroy the resource (revocation is permanent). When set, Terraform enforces it. When unset, Terraform leaves the status alone: a suspension made at runtime (for example by an operator over the API) is kept. An agent revoked outside Terraform is replaced on the next apply.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#status Agent#status}
  */
  readonly status?: string;
  /**
  * federated_credential block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#federated_credential Agent#federated_credential}
  */
  readonly federatedCredential?: AgentFederatedCredential[] | cdktf.IResolvable;
}
export interface AgentFederatedCredential {
  /**
  * A value the platform token's `aud` must contain; default: the organization's issuer URL (`<public url>/orgs/<organization id>`). A custom audience must be the control plane's public URL or start with it followed by `/`, and may not name another organization's issuer. Unset: the default, known after apply. Changing it replaces this credential, not the agent.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#audience Agent#audience}
  */
  readonly audience?: string;
  /**
  * JSON object (write it with `jsonencode`) of further top-level claims the platform token must carry with exactly these JSON values; at most 20, names of 1-64 characters other than iss, sub, aud, exp, nbf, iat, jti, values of at most 1024 characters of JSON. Compared as JSON, so formatting never shows as a change. Unset: no further claims. Changing it replaces this credential, not the agent.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#claims_json Agent#claims_json}
  */
  readonly claimsJson?: string;
  /**
  * Issuer of the workload's platform token: an `https` URL of at most 512 characters, without user info, query or fragment, equal to the platform token's `iss`; when `jwks` is omitted the issuer's keys are fetched from `<issuer>/.well-known/openid-configuration`, so it must not be a loopback, private or link-local address (unless the server runs with `CERTUSORDO_FEDERATION_ALLOW_PRIVATE_NETWORKS=1`) and never a cloud metadata address. Changing it replaces this credential, not the agent.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#issuer Agent#issuer}
  */
  readonly issuer: string;
  /**
  * JSON text of the issuer's public keys inline (a JWK Set of at most 10 keys: RSA of at least 2048 bits, EC P-256 or OKP Ed25519, public members only); for an issuer the control plane cannot reach. Omitted: fetched by OpenID discovery. Compared as JSON. Changing it replaces this credential, not the agent.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#jwks Agent#jwks}
  */
  readonly jwks?: string;
  /**
  * The workload: 1-512 characters, equal to the platform token's `sub`. Changing it replaces this credential, not the agent.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#subject Agent#subject}
  */
  readonly subject: string;
}

export function agentFederatedCredentialToTerraform(struct?: AgentFederatedCredential | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    audience: cdktf.stringToTerraform(struct!.audience),
    claims_json: cdktf.stringToTerraform(struct!.claimsJson),
    issuer: cdktf.stringToTerraform(struct!.issuer),
    jwks: cdktf.stringToTerraform(struct!.jwks),
    subject: cdktf.stringToTerraform(struct!.subject),
  }
}


export function agentFederatedCredentialToHclTerraform(struct?: AgentFederatedCredential | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    audience: {
      value: cdktf.stringToHclTerraform(struct!.audience),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    claims_json: {
      value: cdktf.stringToHclTerraform(struct!.claimsJson),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    issuer: {
      value: cdktf.stringToHclTerraform(struct!.issuer),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    jwks: {
      value: cdktf.stringToHclTerraform(struct!.jwks),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    subject: {
      value: cdktf.stringToHclTerraform(struct!.subject),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class AgentFederatedCredentialOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;
  private resolvableValue?: cdktf.IResolvable;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectIndex the index of this item in the list
  * @param complexObjectIsFromSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectIndex: number, complexObjectIsFromSet: boolean) {
    super(terraformResource, terraformAttribute, complexObjectIsFromSet, complexObjectIndex);
  }

  public get internalValue(): AgentFederatedCredential | cdktf.IResolvable | undefined {
    if (this.resolvableValue) {
      return this.resolvableValue;
    }
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._audience !== undefined) {
      hasAnyValues = true;
      internalValueResult.audience = this._audience;
    }
    if (this._claimsJson !== undefined) {
      hasAnyValues = true;
      internalValueResult.claimsJson = this._claimsJson;
    }
    if (this._issuer !== undefined) {
      hasAnyValues = true;
      internalValueResult.issuer = this._issuer;
    }
    if (this._jwks !== undefined) {
      hasAnyValues = true;
      internalValueResult.jwks = this._jwks;
    }
    if (this._subject !== undefined) {
      hasAnyValues = true;
      internalValueResult.subject = this._subject;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: AgentFederatedCredential | cdktf.IResolvable | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this.resolvableValue = undefined;
      this._audience = undefined;
      this._claimsJson = undefined;
      this._issuer = undefined;
      this._jwks = undefined;
      this._subject = undefined;
    }
    else if (cdktf.Tokenization.isResolvable(value)) {
      this.isEmptyObject = false;
      this.resolvableValue = value;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this.resolvableValue = undefined;
      this._audience = value.audience;
      this._claimsJson = value.claimsJson;
      this._issuer = value.issuer;
      this._jwks = value.jwks;
      this._subject = value.subject;
    }
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
}

export class AgentFederatedCredentialList extends cdktf.ComplexList {
  public internalValue? : AgentFederatedCredential[] | cdktf.IResolvable

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param wrapsSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  constructor(protected override terraformResource: cdktf.IInterpolatingParent, protected override terraformAttribute: string, protected override wrapsSet: boolean) {
    super(terraformResource, terraformAttribute, wrapsSet)
  }

  /**
  * @param index the index of the item to return
  */
  public get(index: number): AgentFederatedCredentialOutputReference {
    return new AgentFederatedCredentialOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
  }
}

/**
* Represents a {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent certusordo_agent}
*/
export class Agent extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "certusordo_agent";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a Agent resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the Agent to import
  * @param importFromId The id of the existing Agent that should be imported. Refer to the {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the Agent to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "certusordo_agent", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent certusordo_agent} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options AgentConfig
  */
  public constructor(scope: Construct, id: string, config: AgentConfig) {
    super(scope, id, {
      terraformResourceType: 'certusordo_agent',
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
    this._metadata = config.metadata;
    this._name = config.name;
    this._publicKey = config.publicKey;
    this._rotationTrigger = config.rotationTrigger;
    this._scopes = config.scopes;
    this._status = config.status;
    this._federatedCredential.internalValue = config.federatedCredential;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // created_at - computed: true, optional: false, required: false
  public get createdAt() {
    return this.getStringAttribute('created_at');
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // last_auth_at - computed: true, optional: false, required: false
  public get lastAuthAt() {
    return this.getStringAttribute('last_auth_at');
  }

  // may_act - computed: true, optional: false, required: false
  public get mayAct() {
    return cdktf.Fn.tolist(this.getListAttribute('may_act'));
  }

  // metadata - computed: true, optional: true, required: false
  private _metadata?: { [key: string]: string }; 
  public get metadata() {
    return this.getStringMapAttribute('metadata');
  }
  public set metadata(value: { [key: string]: string }) {
    this._metadata = value;
  }
  public resetMetadata() {
    this._metadata = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get metadataInput() {
    return this._metadata;
  }

  // name - computed: false, optional: false, required: true
  private _name?: string; 
  public get name() {
    return this.getStringAttribute('name');
  }
  public set name(value: string) {
    this._name = value;
  }
  // Temporarily expose input value. Use with caution.
  public get nameInput() {
    return this._name;
  }

  // public_key - computed: true, optional: true, required: false
  private _publicKey?: string; 
  public get publicKey() {
    return this.getStringAttribute('public_key');
  }
  public set publicKey(value: string) {
    this._publicKey = value;
  }
  public resetPublicKey() {
    this._publicKey = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get publicKeyInput() {
    return this._publicKey;
  }

  // rotation_trigger - computed: false, optional: true, required: false
  private _rotationTrigger?: { [key: string]: string }; 
  public get rotationTrigger() {
    return this.getStringMapAttribute('rotation_trigger');
  }
  public set rotationTrigger(value: { [key: string]: string }) {
    this._rotationTrigger = value;
  }
  public resetRotationTrigger() {
    this._rotationTrigger = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get rotationTriggerInput() {
    return this._rotationTrigger;
  }

  // scopes - computed: true, optional: true, required: false
  private _scopes?: string[]; 
  public get scopes() {
    return cdktf.Fn.tolist(this.getListAttribute('scopes'));
  }
  public set scopes(value: string[]) {
    this._scopes = value;
  }
  public resetScopes() {
    this._scopes = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get scopesInput() {
    return this._scopes;
  }

  // secret - computed: true, optional: false, required: false
  public get secret() {
    return this.getStringAttribute('secret');
  }

  // status - computed: true, optional: true, required: false
  private _status?: string; 
  public get status() {
    return this.getStringAttribute('status');
  }
  public set status(value: string) {
    this._status = value;
  }
  public resetStatus() {
    this._status = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get statusInput() {
    return this._status;
  }

  // federated_credential - computed: false, optional: true, required: false
  private _federatedCredential = new AgentFederatedCredentialList(this, "federated_credential", true);
  public get federatedCredential() {
    return this._federatedCredential;
  }
  public putFederatedCredential(value: AgentFederatedCredential[] | cdktf.IResolvable) {
    this._federatedCredential.internalValue = value;
  }
  public resetFederatedCredential() {
    this._federatedCredential.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get federatedCredentialInput() {
    return this._federatedCredential.internalValue;
  }

  // =========
  // SYNTHESIS
  // =========

  protected override synthesizeAttributes(): { [name: string]: any } {
    return {
      metadata: cdktf.hashMapper(cdktf.stringToTerraform)(this._metadata),
      name: cdktf.stringToTerraform(this._name),
      public_key: cdktf.stringToTerraform(this._publicKey),
      rotation_trigger: cdktf.hashMapper(cdktf.stringToTerraform)(this._rotationTrigger),
      scopes: cdktf.listMapper(cdktf.stringToTerraform, false)(this._scopes),
      status: cdktf.stringToTerraform(this._status),
      federated_credential: cdktf.listMapper(agentFederatedCredentialToTerraform, true)(this._federatedCredential.internalValue),
    };
  }

  protected override synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      metadata: {
        value: cdktf.hashMapperHcl(cdktf.stringToHclTerraform)(this._metadata),
        isBlock: false,
        type: "map",
        storageClassType: "stringMap",
      },
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      public_key: {
        value: cdktf.stringToHclTerraform(this._publicKey),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      rotation_trigger: {
        value: cdktf.hashMapperHcl(cdktf.stringToHclTerraform)(this._rotationTrigger),
        isBlock: false,
        type: "map",
        storageClassType: "stringMap",
      },
      scopes: {
        value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(this._scopes),
        isBlock: false,
        type: "set",
        storageClassType: "stringList",
      },
      status: {
        value: cdktf.stringToHclTerraform(this._status),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      federated_credential: {
        value: cdktf.listMapperHcl(agentFederatedCredentialToHclTerraform, true)(this._federatedCredential.internalValue),
        isBlock: true,
        type: "set",
        storageClassType: "AgentFederatedCredentialList",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
