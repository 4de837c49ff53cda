// https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_delegation
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface AgentDelegationConfig extends cdktf.TerraformMetaArguments {
  /**
  * The agent allowed to act for it. Changing it replaces the grant.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_delegation#actor_agent_id AgentDelegation#actor_agent_id}
  */
  readonly actorAgentId: string;
  /**
  * The agent acted for (usually `certusordo_agent.<name>.id`). Changing it replaces the grant.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_delegation#subject_agent_id AgentDelegation#subject_agent_id}
  */
  readonly subjectAgentId: string;
}

/**
* Represents a {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_delegation certusordo_agent_delegation}
*/
export class AgentDelegation extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "certusordo_agent_delegation";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a AgentDelegation resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the AgentDelegation to import
  * @param importFromId The id of the existing AgentDelegation that should be imported. Refer to the {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_delegation#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the AgentDelegation to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "certusordo_agent_delegation", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/resources/agent_delegation certusordo_agent_delegation} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options AgentDelegationConfig
  */
  public constructor(scope: Construct, id: string, config: AgentDelegationConfig) {
    super(scope, id, {
      terraformResourceType: 'certusordo_agent_delegation',
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
    this._actorAgentId = config.actorAgentId;
    this._subjectAgentId = config.subjectAgentId;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // actor_agent_id - computed: false, optional: false, required: true
  private _actorAgentId?: string; 
  public get actorAgentId() {
    return this.getStringAttribute('actor_agent_id');
  }
  public set actorAgentId(value: string) {
    this._actorAgentId = value;
  }
  // Temporarily expose input value. Use with caution.
  public get actorAgentIdInput() {
    return this._actorAgentId;
  }

  // created_at - computed: true, optional: false, required: false
  public get createdAt() {
    return this.getStringAttribute('created_at');
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // subject_agent_id - computed: false, optional: false, required: true
  private _subjectAgentId?: string; 
  public get subjectAgentId() {
    return this.getStringAttribute('subject_agent_id');
  }
  public set subjectAgentId(value: string) {
    this._subjectAgentId = value;
  }
  // Temporarily expose input value. Use with caution.
  public get subjectAgentIdInput() {
    return this._subjectAgentId;
  }

  // =========
  // SYNTHESIS
  // =========

  protected override synthesizeAttributes(): { [name: string]: any } {
    return {
      actor_agent_id: cdktf.stringToTerraform(this._actorAgentId),
      subject_agent_id: cdktf.stringToTerraform(this._subjectAgentId),
    };
  }

  protected override synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      actor_agent_id: {
        value: cdktf.stringToHclTerraform(this._actorAgentId),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      subject_agent_id: {
        value: cdktf.stringToHclTerraform(this._subjectAgentId),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
