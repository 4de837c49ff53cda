// https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_key
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface AgentKeyConfig extends cdktf.TerraformMetaArguments {
  /**
  * Id of the agent the key belongs to, usually `certusordo_agent.<name>.id`. Changing it replaces the key.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_key#agent_id AgentKey#agent_id}
  */
  readonly agentId: string;
  /**
  * An Ed25519 public key: base64url (no padding) of the 32 raw bytes, 43 characters. Set it to bring your own key (then no `secret` is issued); leave it unset to let the control plane generate the key pair. Changing it replaces the key.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_key#public_key AgentKey#public_key}
  */
  readonly publicKey?: string;
  /**
  * Arbitrary map of values that, when changed, replaces the key (a rotation), like `keepers` in the `random` provider. Combine it with `lifecycle { create_before_destroy = true }`. Setting it for the first time (for example after `terraform import`) only records it.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_key#rotation_trigger AgentKey#rotation_trigger}
  */
  readonly rotationTrigger?: { [key: string]: string };
}

/**
* Represents a {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_key certusordo_agent_key}
*/
export class AgentKey extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "certusordo_agent_key";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a AgentKey resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the AgentKey to import
  * @param importFromId The id of the existing AgentKey that should be imported. Refer to the {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_key#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the AgentKey to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "certusordo_agent_key", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_key certusordo_agent_key} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options AgentKeyConfig
  */
  public constructor(scope: Construct, id: string, config: AgentKeyConfig) {
    super(scope, id, {
      terraformResourceType: 'certusordo_agent_key',
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
    this._publicKey = config.publicKey;
    this._rotationTrigger = config.rotationTrigger;
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

  // created_at - computed: true, optional: false, required: false
  public get createdAt() {
    return this.getStringAttribute('created_at');
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // kid - computed: true, optional: false, required: false
  public get kid() {
    return this.getStringAttribute('kid');
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

  // secret - computed: true, optional: false, required: false
  public get secret() {
    return this.getStringAttribute('secret');
  }

  // =========
  // SYNTHESIS
  // =========

  protected override synthesizeAttributes(): { [name: string]: any } {
    return {
      agent_id: cdktf.stringToTerraform(this._agentId),
      public_key: cdktf.stringToTerraform(this._publicKey),
      rotation_trigger: cdktf.hashMapper(cdktf.stringToTerraform)(this._rotationTrigger),
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
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
