"""The deploy role's writes for the network and web tier: VPCs and instances (EC2),
autoscaling groups, load balancers, certificates (ACM) and log groups (CloudWatch Logs).

Each function takes a deploy role's `Scope` and returns its statements for one IAM
service; `WRITES` maps the service to it (`infra.ci_permissions.writes`).
"""

from __future__ import annotations

from collections.abc import Callable

from infra.ci_permissions.statements import Scope, Statement, statement


def acm(scope: Scope) -> list[Statement]:
    return [
        statement(
            "Certificates",
            [
                "acm:RequestCertificate",
                "acm:DeleteCertificate",
                "acm:AddTagsToCertificate",
                "acm:RemoveTagsFromCertificate",
                "acm:UpdateCertificateOptions",
            ],
            ["*"],
            why="acm:RequestCertificate authorizes on * only (a certificate has no ARN "
            "before it is requested); every action here acts on certificates alone",
        )
    ]


def autoscaling(scope: Scope) -> list[Statement]:
    account = scope.account
    return [
        statement(
            "AutoscalingGroups",
            [
                "autoscaling:CreateAutoScalingGroup",
                "autoscaling:UpdateAutoScalingGroup",
                "autoscaling:DeleteAutoScalingGroup",
                "autoscaling:SetInstanceProtection",
                "autoscaling:StartInstanceRefresh",
                "autoscaling:CancelInstanceRefresh",
                "autoscaling:PutScalingPolicy",
                "autoscaling:DeletePolicy",
                "autoscaling:CreateOrUpdateTags",
                "autoscaling:DeleteTags",
                "autoscaling:AttachLoadBalancerTargetGroups",
                "autoscaling:DetachLoadBalancerTargetGroups",
                "autoscaling:EnableMetricsCollection",
                "autoscaling:DisableMetricsCollection",
                "autoscaling:SuspendProcesses",
                "autoscaling:ResumeProcesses",
            ],
            [f"arn:aws:autoscaling:*:{account}:autoScalingGroup:*:autoScalingGroupName/*"],
        ),
        # Creating a group from a launch template launches instances as the caller.
        statement(
            "LaunchFromTemplate",
            ["ec2:RunInstances", "ec2:CreateTags"],
            [f"arn:aws:ec2:*:{account}:*", "arn:aws:ec2:*::image/*"],
            why="RunInstances names many resource types (instance, volume, network "
            "interface, subnet, security group, launch template, image): all of this "
            "account's, and the public AMIs the launch template resolves",
        ),
    ]


def ec2(scope: Scope) -> list[Statement]:
    return [
        statement(
            "Network",
            [
                "ec2:Create*",
                "ec2:Delete*",
                "ec2:Modify*",
                "ec2:Associate*",
                "ec2:Disassociate*",
                "ec2:Attach*",
                "ec2:Detach*",
                "ec2:Replace*",
                "ec2:AllocateAddress",
                "ec2:ReleaseAddress",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
                "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
            ],
            ["*"],
            why="EC2 resources are addressed by generated ids (vpc-..., subnet-...), so they "
            "cannot be named in advance, and several create calls authorize on * only; "
            "the verb families cover the VPC, subnets, gateways, routes, addresses, "
            "security groups, launch templates and flow logs the Network and WebTier "
            "components declare. No ec2:Get* (password data) and no instance actions "
            "beyond the autoscaling launch",
        ),
        # The launch template's `resolve:ssm:` AMI (infra/components/web.py).
        statement(
            "PublicAmiParameters",
            ["ssm:GetParameter", "ssm:GetParameters"],
            ["arn:aws:ssm:*::parameter/aws/service/*"],
        ),
    ]


def elasticloadbalancing(scope: Scope) -> list[Statement]:
    account = scope.account
    return [
        statement(
            "LoadBalancers",
            [
                "elasticloadbalancing:Create*",
                "elasticloadbalancing:Delete*",
                "elasticloadbalancing:Modify*",
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
            ],
            [f"arn:aws:elasticloadbalancing:*:{account}:*"],
            why="load balancers, listeners and target groups of this account: target group "
            "and listener ARNs carry generated ids, so they cannot be named in advance",
        )
    ]


def logs(scope: Scope) -> list[Statement]:
    account = scope.account
    return [
        # ElastiCache's slow-log delivery and OpenSearch's log publishing: the caller sets up
        # the delivery and the groups' resource policy ("Log delivery", ElastiCache user
        # guide; "Monitoring OpenSearch logs with Amazon CloudWatch Logs").
        statement(
            "LogDeliveries",
            [
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DeleteResourcePolicy",
                "logs:DescribeResourcePolicies",
            ],
            ["*"],
            why="the log delivery and resource policy actions support no resource-level "
            "permissions (IAM only authorizes them on *)",
        ),
        statement(
            "LogGroups",
            [
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DeleteRetentionPolicy",
                "logs:AssociateKmsKey",
                "logs:DisassociateKmsKey",
                "logs:TagResource",
                "logs:UntagResource",
                "logs:TagLogGroup",
                "logs:UntagLogGroup",
            ],
            [f"arn:aws:logs:*:{account}:log-group:*"],
            why="log group names are Pulumi auto-names (<region>-<what>-<suffix>); matched "
            "as this account's log groups",
        ),
    ]


WRITES: dict[str, Callable[[Scope], list[Statement]]] = {
    "acm": acm,
    "autoscaling": autoscaling,
    "ec2": ec2,
    "elasticloadbalancing": elasticloadbalancing,
    "logs": logs,
}
