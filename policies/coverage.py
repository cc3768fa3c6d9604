"""Which pulumi-aws resource properties carry an IAM policy document, and what kind of document each is.

Every rule over documents (`policies/iam.py`, `policies/execute_api.py`) reads these tables, and
`tests/policies/test_policies_coverage.py` scans the installed pulumi_aws SDK for properties that look
like policy documents: each one must be here, or in `NOT_IAM_DOCUMENTS` with the reason it is not an
IAM document. So a pulumi-aws upgrade, or a component starting to create a new policy-bearing type,
fails a test until the pack knows the type.
"""

from __future__ import annotations

#: type -> properties holding an identity policy (statements without a Principal).
IDENTITY_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/policy:Policy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": ("inlinePolicy",),
}

#: type -> properties holding a trust policy (who may assume the role).
TRUST_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("assumeRolePolicy",),
}

#: type -> properties holding a resource policy (statements with a Principal): the resource's own
#: policy, a separate policy resource, or an endpoint policy.
RESOURCE_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "aws:acmpca/policy:Policy": ("policy",),
    "aws:amp/resourcePolicy:ResourcePolicy": ("policyDocument",),
    "aws:apigateway/domainName:DomainName": ("policy",),
    "aws:apigateway/restApi:RestApi": ("policy",),
    "aws:apigateway/restApiPolicy:RestApiPolicy": ("policy",),
    "aws:backup/vaultPolicy:VaultPolicy": ("policy",),
    "aws:bedrock/agentcoreResourcePolicy:AgentcoreResourcePolicy": ("policy",),
    "aws:cloudsearch/domainServiceAccessPolicy:DomainServiceAccessPolicy": ("accessPolicy",),
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": ("policy",),
    "aws:cloudwatch/logDeliveryDestinationPolicy:LogDeliveryDestinationPolicy": ("deliveryDestinationPolicy",),
    "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy": ("accessPolicy",),
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": ("policyDocument",),
    "aws:codeartifact/domainPermissions:DomainPermissions": ("policyDocument",),
    "aws:codeartifact/repositoryPermissionsPolicy:RepositoryPermissionsPolicy": ("policyDocument",),
    "aws:codebuild/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:dsql/clusterPolicy:ClusterPolicy": ("policy",),
    "aws:dynamodb/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("policy",),
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": ("policy",),
    "aws:ecr/registryPolicy:RegistryPolicy": ("policy",),
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": ("repositoryPolicy",),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("policy",),
    "aws:ecrpublic/repositoryPolicy:RepositoryPolicy": ("policy",),
    "aws:efs/fileSystemPolicy:FileSystemPolicy": ("policy",),
    "aws:elasticsearch/domain:Domain": ("accessPolicies",),
    "aws:elasticsearch/domainPolicy:DomainPolicy": ("accessPolicies",),
    "aws:glacier/vault:Vault": ("accessPolicy",),
    "aws:glacier/vaultLock:VaultLock": ("policy",),
    "aws:glue/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:kinesis/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:kms/externalKey:ExternalKey": ("policy",),
    "aws:kms/key:Key": ("policy",),
    "aws:kms/keyPolicy:KeyPolicy": ("policy",),
    "aws:kms/replicaExternalKey:ReplicaExternalKey": ("policy",),
    "aws:kms/replicaKey:ReplicaKey": ("policy",),
    "aws:lambda/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:mediastore/containerPolicy:ContainerPolicy": ("policy",),
    "aws:msk/clusterPolicy:ClusterPolicy": ("policy",),
    "aws:networkfirewall/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:oam/sinkPolicy:SinkPolicy": ("policy",),
    "aws:odb/network:Network": ("kmsPolicyDocument", "s3PolicyDocument", "stsPolicyDocument"),
    "aws:opensearch/domain:Domain": ("accessPolicies",),
    "aws:opensearch/domainPolicy:DomainPolicy": ("accessPolicies",),
    "aws:opensearchingest/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:pinpoint/smsvoicev2ResourcePolicy:Smsvoicev2ResourcePolicy": ("policy",),
    "aws:redshift/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:redshiftserverless/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:s3/accessPoint:AccessPoint": ("policy",),
    "aws:s3/bucket:Bucket": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:s3/bucketV2:BucketV2": ("policy",),
    "aws:s3/filesFileSystemPolicy:FilesFileSystemPolicy": ("policy",),
    "aws:s3/vectorsVectorBucketPolicy:VectorsVectorBucketPolicy": ("policy",),
    "aws:s3control/accessGrantsInstanceResourcePolicy:AccessGrantsInstanceResourcePolicy": ("policy",),
    "aws:s3control/accessPointPolicy:AccessPointPolicy": ("policy",),
    "aws:s3control/bucketPolicy:BucketPolicy": ("policy",),
    "aws:s3control/objectLambdaAccessPointPolicy:ObjectLambdaAccessPointPolicy": ("policy",),
    "aws:s3tables/tableBucketPolicy:TableBucketPolicy": ("resourcePolicy",),
    "aws:s3tables/tablePolicy:TablePolicy": ("resourcePolicy",),
    "aws:schemas/registryPolicy:RegistryPolicy": ("policy",),
    "aws:secretsmanager/secret:Secret": ("policy",),
    "aws:secretsmanager/secretPolicy:SecretPolicy": ("policy",),
    "aws:ses/identityPolicy:IdentityPolicy": ("policy",),
    "aws:sesv2/emailIdentityPolicy:EmailIdentityPolicy": ("policy",),
    "aws:sns/topic:Topic": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
    "aws:sqs/queue:Queue": ("policy",),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
    "aws:vpclattice/authPolicy:AuthPolicy": ("policy",),
    "aws:vpclattice/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:xray/resourcePolicy:ResourcePolicy": ("policyDocument",),
}

#: Grants that are not documents: checked field by field (`policies/iam.py`).
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"

#: (type, property) that look like policy documents but are not IAM permission documents, and why.
NOT_IAM_DOCUMENTS: dict[tuple[str, str], str] = {
    ("aws:alb/listener:Listener", "routingHttpResponseContentSecurityPolicyHeaderValue"):
        "an HTTP Content-Security-Policy header value",
    ("aws:lb/listener:Listener", "routingHttpResponseContentSecurityPolicyHeaderValue"):
        "an HTTP Content-Security-Policy header value",
    ("aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy", "policyDocument"):
        "a data-protection policy (DataIdentifier/Operation masking rules); grants no access",
    ("aws:cloudwatch/logIndexPolicy:LogIndexPolicy", "policyDocument"): "a field-index configuration",
    ("aws:sns/dataProtectionPolicy:DataProtectionPolicy", "policy"):
        "a data-protection policy (DataIdentifier/Operation rules); grants no access",
    ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "policy"): "image expiry rules",
    ("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "lifecyclePolicy"): "image expiry rules",
    ("aws:emr/instanceGroup:InstanceGroup", "autoscalingPolicy"): "EMR scaling rules",
    ("aws:networkmanager/coreNetwork:CoreNetwork", "basePolicyDocument"): "a core network routing policy",
    ("aws:networkmanager/coreNetworkPolicyAttachment:CoreNetworkPolicyAttachment", "policyDocument"):
        "a core network routing policy",
    ("aws:opensearch/serverlessAccessPolicy:ServerlessAccessPolicy", "policy"):
        "OpenSearch Serverless data-access rules (Rules/Permission/Principal lists), not IAM grammar",
    ("aws:opensearch/serverlessLifecyclePolicy:ServerlessLifecyclePolicy", "policy"): "index retention rules",
    ("aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy", "policy"):
        "encryption and network rules of OpenSearch Serverless, not IAM grammar",
    ("aws:ram/permission:Permission", "policyTemplate"):
        "a fragment (Effect/Action/Condition, no Principal or Resource) RAM completes per share",
    ("aws:sns/topicSubscription:TopicSubscription", "deliveryPolicy"): "retry settings",
    ("aws:sns/topicSubscription:TopicSubscription", "filterPolicy"): "a message filter",
    ("aws:sns/topicSubscription:TopicSubscription", "redrivePolicy"): "a dead-letter queue setting",
    ("aws:sns/topicSubscription:TopicSubscription", "replayPolicy"): "an archive replay setting",
    ("aws:sqs/queue:Queue", "redriveAllowPolicy"): "which queues may use this one as a dead-letter queue",
    ("aws:sqs/queue:Queue", "redrivePolicy"): "a dead-letter queue setting",
    ("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "redriveAllowPolicy"):
        "which queues may use this one as a dead-letter queue",
    ("aws:sqs/redrivePolicy:RedrivePolicy", "redrivePolicy"): "a dead-letter queue setting",
    ("aws:verifiedaccess/endpoint:Endpoint", "policyDocument"): "a Cedar policy of Verified Access",
    ("aws:verifiedaccess/group:Group", "policyDocument"): "a Cedar policy of Verified Access",
    ("aws:workspacesweb/browserSettings:BrowserSettings", "browserPolicy"): "a Chrome enterprise policy",
    ("aws:iot/policyAttachment:PolicyAttachment", "policy"): "the name of an IoT policy, not a document",
    ("aws:iot/policy:Policy", "policy"):
        "an AWS IoT Core policy for devices (iot: actions on things and topics), not checked by this pack",
    ("aws:eks/podIdentityAssociation:PodIdentityAssociation", "policy"):
        "a session policy: it can only narrow the role's permissions, never add to them",
    ("aws:transfer/access:Access", "policy"): "a session policy: it can only narrow the role's permissions",
    ("aws:transfer/user:User", "policy"): "a session policy: it can only narrow the role's permissions",
}

