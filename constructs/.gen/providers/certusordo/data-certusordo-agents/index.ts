// https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/data-sources/agents
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface DataCertusordoAgentsConfig extends cdktf.TerraformMetaArguments {
  /**
  * RFC 3339 instant with a time zone (for example `2026-11-01T00:00:00Z`, or `timeadd(plantimestamp(), "-720h")`): only agents with no authentication since then, including those that never authenticated. Useful to find stale identities.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/data-sources/agents#inactive_since DataCertusordoAgents#inactive_since}
  */
  readonly inactiveSince?: string;
  /**
  * Only agents whose name starts with this prefix.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/data-sources/agents#name_prefix DataCertusordoAgents#name_prefix}
  */
  readonly namePrefix?: string;
  /**
  * When `true`, only agents that have never authenticated (`last_auth_at` is null). `false` or unset: no filter.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/data-sources/agents#never_authenticated DataCertusordoAgents#never_authenticated}
  */
  readonly neverAuthenticated?: boolean | cdktf.IResolvable;
  /**
  * Only agents with this status: `active`, `suspended` or `revoked`.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/data-sources/agents#status DataCertusordoAgents#status}
  */
  readonly status?: string;
}
export interface DataCertusordoAgentsAgents {
}

export function dataCertusordoAgentsAgentsToTerraform(struct?: DataCertusordoAgentsAgents): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
  }
}


export function dataCertusordoAgentsAgentsToHclTerraform(struct?: DataCertusordoAgentsAgents): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
  };
  return attrs;
}

export class DataCertusordoAgentsAgentsOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectIndex the index of this item in the list
  * @param complexObjectIsFromSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectIndex: number, complexObjectIsFromSet: boolean) {
    super(terraformResource, terraformAttribute, complexObjectIsFromSet, complexObjectIndex);
  }

  public get internalValue(): DataCertusordoAgentsAgents | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: DataCertusordoAgentsAgents | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
    }
  }

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

  // metadata - computed: true, optional: false, required: false
  private _metadata = new cdktf.StringMap(this, "metadata");
  public get metadata() {
    return this._metadata;
  }

  // name - computed: true, optional: false, required: false
  public get name() {
    return this.getStringAttribute('name');
  }

  // public_key - computed: true, optional: false, required: false
  public get publicKey() {
    return this.getStringAttribute('public_key');
  }

  // scopes - computed: true, optional: false, required: false
  public get scopes() {
    return cdktf.Fn.tolist(this.getListAttribute('scopes'));
  }

  // status - computed: true, optional: false, required: false
  public get status() {
    return this.getStringAttribute('status');
  }
}

export class DataCertusordoAgentsAgentsList extends cdktf.ComplexList {

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
  public get(index: number): DataCertusordoAgentsAgentsOutputReference {
    return new DataCertusordoAgentsAgentsOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
  }
}

/**
* Represents a {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/data-sources/agents certusordo_agents}
*/
export class DataCertusordoAgents extends cdktf.TerraformDataSource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "certusordo_agents";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a DataCertusordoAgents resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the DataCertusordoAgents to import
  * @param importFromId The id of the existing DataCertusordoAgents that should be imported. Refer to the {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/data-sources/agents#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the DataCertusordoAgents to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "certusordo_agents", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/certusordo/certusordo/latest/docs/data-sources/agents certusordo_agents} Data Source
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options DataCertusordoAgentsConfig = {}
  */
  public constructor(scope: Construct, id: string, config: DataCertusordoAgentsConfig = {}) {
    super(scope, id, {
      terraformResourceType: 'certusordo_agents',
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
    this._inactiveSince = config.inactiveSince;
    this._namePrefix = config.namePrefix;
    this._neverAuthenticated = config.neverAuthenticated;
    this._status = config.status;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // agents - computed: true, optional: false, required: false
  private _agents = new DataCertusordoAgentsAgentsList(this, "agents", false);
  public get agents() {
    return this._agents;
  }

  // inactive_since - computed: false, optional: true, required: false
  private _inactiveSince?: string; 
  public get inactiveSince() {
    return this.getStringAttribute('inactive_since');
  }
  public set inactiveSince(value: string) {
    this._inactiveSince = value;
  }
  public resetInactiveSince() {
    this._inactiveSince = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get inactiveSinceInput() {
    return this._inactiveSince;
  }

  // name_prefix - computed: false, optional: true, required: false
  private _namePrefix?: string; 
  public get namePrefix() {
    return this.getStringAttribute('name_prefix');
  }
  public set namePrefix(value: string) {
    this._namePrefix = value;
  }
  public resetNamePrefix() {
    this._namePrefix = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get namePrefixInput() {
    return this._namePrefix;
  }

  // never_authenticated - computed: false, optional: true, required: false
  private _neverAuthenticated?: boolean | cdktf.IResolvable; 
  public get neverAuthenticated() {
    return this.getBooleanAttribute('never_authenticated');
  }
  public set neverAuthenticated(value: boolean | cdktf.IResolvable) {
    this._neverAuthenticated = value;
  }
  public resetNeverAuthenticated() {
    this._neverAuthenticated = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get neverAuthenticatedInput() {
    return this._neverAuthenticated;
  }

  // status - computed: false, optional: true, required: false
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
      inactive_since: cdktf.stringToTerraform(this._inactiveSince),
      name_prefix: cdktf.stringToTerraform(this._namePrefix),
      never_authenticated: cdktf.booleanToTerraform(this._neverAuthenticated),
      status: cdktf.stringToTerraform(this._status),
    };
  }

  protected override synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      inactive_since: {
        value: cdktf.stringToHclTerraform(this._inactiveSince),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      name_prefix: {
        value: cdktf.stringToHclTerraform(this._namePrefix),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      never_authenticated: {
        value: cdktf.booleanToHclTerraform(this._neverAuthenticated),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
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
