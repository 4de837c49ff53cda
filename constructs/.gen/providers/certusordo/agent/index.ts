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
  * An Ed25519 public key: base64url (no padding) of the 32 raw bytes, 43 characters. Set it to bring your own key (then no `secret` is issued); leave it unset to let the control plane generate a key pair. Changing it replaces the agent.
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
  * Permitted operations, each `resource:action` in lowercase letters, digits, `_`, `-` and `.` (for example `payments:read`), a single segment (`read`), or `resource:*`; at most 100 scopes; duplicates are removed. Defaults to an empty set. Updated in place.
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
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
