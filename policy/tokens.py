"""Resource type tokens the rules look at (pulumi-aws v7, pulumi-cloudflare v6)."""

from __future__ import annotations

# RDS
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"

# S3: in pulumi-aws v7 a bucket's settings are resources of their own beside it.
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKETS = (BUCKET, BUCKET_V2)
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
BUCKET_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"

# KMS, Secrets Manager, CloudWatch Logs
KMS_KEY = "aws:kms/key:Key"
SM_SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 (a type token)
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

# On call: alarms, their topics, backups
SNS_TOPIC = "aws:sns/topic:Topic"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
BACKUP_VAULT = "aws:backup/vault:Vault"
BACKUP_PLAN = "aws:backup/plan:Plan"
CANARY = "aws:synthetics/canary:Canary"

# EC2 and VPC
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
EIP = "aws:ec2/eip:Eip"
EIP_ASSOCIATION = "aws:ec2/eipAssociation:EipAssociation"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
NETWORK_ACL = "aws:ec2/networkAcl:NetworkAcl"
NETWORK_ACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"
EBS_DEFAULT_ENCRYPTION = "aws:ebs/encryptionByDefault:EncryptionByDefault"
ASG = "aws:autoscaling/group:Group"

# Load balancing and certificates
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
ALB = "aws:alb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
ALB_LISTENER = "aws:alb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
CLASSIC_ELB = "aws:elb/loadBalancer:LoadBalancer"
CERTIFICATE = "aws:acm/certificate:Certificate"

# IAM
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
USER = "aws:iam/user:User"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"

# ElastiCache, OpenSearch, SES, SNS
ELASTICACHE_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
ELASTICACHE_SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"
OPENSEARCH_DOMAIN = "aws:opensearch/domain:Domain"
SES_IDENTITY = "aws:sesv2/emailIdentity:EmailIdentity"
SES_CONFIGURATION_SET = "aws:sesv2/configurationSet:ConfigurationSet"
SES_MAIL_FROM = "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes"
SNS_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"

# Cloudflare
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
CF_LOAD_BALANCER = "cloudflare:index/loadBalancer:LoadBalancer"
RULESET = "cloudflare:index/ruleset:Ruleset"

# Resources whose loss loses data: protected and retained on delete, always.
STATEFUL = (
    RDS_INSTANCE,
    RDS_CLUSTER,
    BUCKET,
    BUCKET_V2,
    KMS_KEY,
    EBS_VOLUME,
    "aws:dynamodb/table:Table",
    "aws:efs/fileSystem:FileSystem",
    ELASTICACHE_GROUP,
    OPENSEARCH_DOMAIN,
    BACKUP_VAULT,
)

# AWS types that take tags: one declared without any fails `required-tags`. (A type missing
# here is still judged when it is given tags.)
TAGGABLE = (
    "aws:acm/certificate:Certificate",
    "aws:autoscaling/group:Group",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    EIP,
    FLOW_LOG,
    "aws:ec2/internetGateway:InternetGateway",
    LAUNCH_TEMPLATE,
    INSTANCE,
    NAT_GATEWAY,
    ROUTE_TABLE,
    SECURITY_GROUP,
    SUBNET,
    VPC,
    EBS_VOLUME,
    "aws:iam/instanceProfile:InstanceProfile",
    ROLE,
    KMS_KEY,
    LISTENER,
    LOAD_BALANCER,
    TARGET_GROUP,
    RDS_INSTANCE,
    RDS_CLUSTER,
    RDS_PARAMETER_GROUP,
    "aws:rds/subnetGroup:SubnetGroup",
    BUCKET,
    BUCKET_V2,
    SM_SECRET,
    INGRESS_RULE,
    EGRESS_RULE,
    METRIC_ALARM,
    BACKUP_VAULT,
    BACKUP_PLAN,
    CANARY,
    ELASTICACHE_GROUP,
    ELASTICACHE_SUBNET_GROUP,
    OPENSEARCH_DOMAIN,
    SES_IDENTITY,
    SES_CONFIGURATION_SET,
    SNS_TOPIC,
    USER,
)

# pulumi-random
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"  # noqa: S105 (a type token)
