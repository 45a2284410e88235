"""The schema reader behind scripts/extract_replacements, on Go written as the providers write it."""

from __future__ import annotations

from infra.maintain import golang
from infra.maintain.golang import Declarations
from infra.maintain.pulumi_sdk import PulumiType, args_class, props_of
from infra.maintain.tf_schema import SchemaReader, TfAttr, attr_const_name
from infra.maintain.tf_sources import Source
from infra.maintain.tf_to_pulumi import map_paths

SDK = """
package ec2

func resourceThing() *schema.Resource {
	helper := func() *schema.Schema { return &schema.Schema{Type: schema.TypeString} }
	_ = helper
	return &schema.Resource{
		CreateWithoutTimeout: resourceThingCreate,
		CustomizeDiff: customdiff.Sequence(
			customdiff.ForceNewIfChange("size", sizeShrinks),
		),
		SchemaFunc: func() map[string]*schema.Schema {
			return map[string]*schema.Schema{
				names.AttrCIDRBlock: {
					Type:     schema.TypeString,
					Optional: true,
					ForceNew: true,
				},
				"size": {Type: schema.TypeInt, Optional: true},
				"arn":  {Type: schema.TypeString, Computed: true, ForceNew: true},
				"block_device": {
					Type:     schema.TypeList,
					Optional: true,
					Elem: &schema.Resource{
						Schema: map[string]*schema.Schema{
							"volume_size": {Type: schema.TypeInt, Optional: true, ForceNew: true},
							"tags": tagsSchema(),
						},
					},
				},
				routeKey: {Type: schema.TypeString, Required: true, ForceNew: true},
			}
		},
	}
}

const routeKey = names.AttrDestinationCIDRBlock
"""

FRAMEWORK = """
package thing

func (r *thingResource) Schema(ctx context.Context, req resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = ResourceSchema(ctx)
}

func ResourceSchema(ctx context.Context) schema.Schema {
	return schema.Schema{
		Attributes: map[string]schema.Attribute{
			"zone_id": schema.StringAttribute{
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"name": schema.StringAttribute{Required: true},
			"kind": schema.StringAttribute{
				Optional:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(f, "", "")},
			},
			"origin": schema.SingleNestedAttribute{
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"port": schema.Int64Attribute{
						Optional:      true,
						PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
					},
				},
			},
		},
	}
}
"""


class _Fake(Source):
    repo, version, commit = "example/terraform-provider-x", "v1.0.0", "0" * 40

    def __init__(self, files: dict[str, str]) -> None:
        super().__init__()
        self.files = files

    def package_files(self, package: str) -> list[str]:
        return [p for p in self.files if p.rsplit("/", 1)[0] == package]

    def package_dirs(self) -> list[str]:
        return sorted({p.rsplit("/", 1)[0] for p in self.files})

    def read_many(self, paths: list[str]) -> dict[str, str]:
        return {p: self.files[p] for p in paths}


def test_sdkv2_force_new_nested_blocks_and_conditional_diffs() -> None:
    reader = SchemaReader(_Fake({"internal/service/ec2/thing.go": SDK}))
    res = reader.sdk_resource("aws_thing", "internal/service/ec2", "resourceThing")
    assert not res.warnings
    attrs = res.attrs
    assert attrs["cidr_block"].force_new  # names.AttrCIDRBlock
    assert attrs["destination_cidr_block"].force_new  # through a package constant
    assert not attrs["arn"].settable  # computed only: not an input
    assert attrs["size"].conditional
    assert not attrs["size"].force_new
    assert attrs["block_device"].children["volume_size"].force_new
    assert not attrs["block_device"].force_new


def test_framework_requires_replace_and_nested_attributes() -> None:
    reader = SchemaReader(_Fake({"internal/services/thing/schema.go": FRAMEWORK}))
    res = reader.framework_resource("x_thing", "internal/services/thing", "thingResource")
    assert not res.warnings
    assert res.attrs["zone_id"].force_new
    assert not res.attrs["name"].force_new
    assert res.attrs["kind"].conditional
    assert not res.attrs["kind"].force_new
    assert res.attrs["origin"].children["port"].force_new


def test_terraform_names_map_onto_pulumi_property_paths() -> None:
    import pulumi_aws  # noqa: F401 (the SDK whose input types are read)

    ptype = PulumiType("aws:ec2/launchTemplate:LaunchTemplate", "pulumi_aws.ec2", "LaunchTemplate")
    cls = args_class(ptype)
    assert cls is not None
    attrs = {
        "block_device_mappings": TfAttr(
            "block_device_mappings",
            children={"device_name": TfAttr("device_name", force_new=True)},
        ),
        "name": TfAttr("name", force_new=True),
        "nonexistent_thing": TfAttr("nonexistent_thing", force_new=True),
    }
    mapped = map_paths(attrs, props_of(cls))
    assert mapped.replace == ["blockDeviceMappings[*].deviceName", "name"]
    assert mapped.unmapped == ["nonexistent_thing"]


def test_attribute_constants_convert_back_to_names() -> None:
    assert attr_const_name("AttrCIDRBlock") == "cidr_block"
    assert attr_const_name("AttrVPCID") == "vpc_id"
    assert attr_const_name("AttrKMSKeyID") == "kms_key_id"
    assert attr_const_name("AttrIOPS") == "iops"
    assert attr_const_name("AttrSecurityGroupIDs") == "security_group_ids"


def test_declarations_split_a_file() -> None:
    decls: Declarations = golang.declarations(SDK)
    assert set(decls.funcs) == {"resourceThing"}
    assert decls.aliases == {"routeKey": "names.AttrDestinationCIDRBlock"}
