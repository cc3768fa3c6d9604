// ProgressTracker and CrossAccountEcr from TypeScript, through the serverless-patterns component package.
// `pulumi package add ../..` generates the SDK imported below (see README.md).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as patterns from "@pulumi/serverless-patterns";

const config = new pulumi.Config();
const consumerAccount = config.require("consumerAccountId");
const consumerRole = config.get("consumerRoleName") ?? "OrganizationAccountAccessRole";
const region = aws.config.requireRegion();

// API stages write logs through one account-wide role: create it once per account and Region.
const apiLogging = new patterns.ApiGatewayAccountLogging("api-gateway-logging", {});

// A WebSocket API streaming Step Functions progress; the demo workflow reports through EventBridge.
const progress = new patterns.ProgressTracker("progress", {
    stageName: "live",
    demoReportingMode: "eventbridge",
    demoWaitSeconds: 2,
}, { dependsOn: [apiLogging] });

// A shared repository in this account; the image function runs in the consumer account.
const consumer = new aws.Provider("consumer", {
    region,
    allowedAccountIds: [consumerAccount],
    assumeRoles: [{ roleArn: `arn:aws:iam::${consumerAccount}:role/${consumerRole}`, sessionName: "serverless-patterns" }],
});
const images = new patterns.CrossAccountEcr("shared-images", {
    repositoryName: "shared/hello",
    consumers: { [consumerAccount]: { provider: consumer, region } },
    // Leave imageTag out for the first `pulumi up`, push an image, then pin it:
    imageTag: config.get("imageTag"),
    lifecycle: { keepBuilds: 10 },
});

export const websocketUrl = progress.websocketUrl;
export const workflowArn = progress.workflowArn;
export const repositoryUrl = images.repositoryUrl;
export const imageUri = images.imageUri;
export const functions = images.functions;
