"""The GlacierRestore component: archive restores on request (see the package docstring)."""

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from serverless_patterns.core import iam
from serverless_patterns.core.base import PatternComponent
from serverless_patterns.core.function import PythonFunction, validate_settings
from serverless_patterns.glacier_restore import templates
from serverless_patterns.glacier_restore.args import (
    ACCESS_LOG_FORMAT,
    AUTH_MODES,
    BUCKET_NAME_PATTERN,
    CLOUDFRONT_CERTIFICATE_PATTERN,
    COGNITO_DOMAIN_PREFIX_PATTERN,
    COGNITO_RESERVED_WORDS,
    DEFAULT_PRICES,
    DOMAIN_PATTERN,
    KMS_KEY_ARN_PATTERN,
    MAX_BROWSE_PAGE_SIZE,
    MAX_BULK_BATCH_SIZE,
    MAX_BULK_OBJECTS,
    MAX_BULK_RESTORE_RATE,
    MAX_DOWNLOAD_URL_TTL,
    MAX_GROUP_PREFIXES_BYTES,
    MAX_KEY_BYTES,
    MAX_RESTORE_DAYS,
    PRICE_CLASSES,
    PRICING_REGIONS,
    SFN_LOG_DELIVERY_ACTIONS,
    SIGNER_SESSION_SECONDS,
    WORK_RETENTION_DAYS,
    XRAY_ACTIONS,
    GlacierRestoreArgs,
    PriceSettings,
    WebSiteSettings,
)
from serverless_patterns.glacier_restore.bulk import BulkSettings, bulk_definition
from serverless_patterns.glacier_restore.definitions import (
    ALL_TIERS,
    TIERS_BY_STORAGE_CLASS,
    WorkflowSettings,
    events_definition,
    request_definition,
)
from serverless_patterns.glacier_restore.site import Site, build_site

#: CloudFront: an origin access control's name is "up to 64 characters" (OriginAccessControlConfig.Name); API
#: Gateway REST API ids are 10 characters.
OAC_NAME_MAX = 64
API_ID_LENGTH = 10
#: The response header that lets the web front end read an answer (its origin, never `*`).
CORS_ORIGIN_HEADER = "Access-Control-Allow-Origin"
#: Seconds a browser may reuse a preflight answer (Chromium caps it at 7,200).
CORS_MAX_AGE = 600


class GlacierRestore(PatternComponent):
    """Archive retrieval on request, orchestrated by Step Functions (see the module docstring)."""

    api_url: pulumi.Output[str]
    """Base URL of the request API's stage."""
    restore_endpoint: pulumi.Output[str]
    """`POST` here (SigV4-signed, or with a Cognito token) to request a restore."""
    objects_endpoint: pulumi.Output[str]
    """`GET` here to browse the archive (with each object's restore status)."""
    estimate_endpoint: pulumi.Output[str]
    """`POST` here to price a restore before requesting it."""
    bulk_endpoint: pulumi.Output[str]
    """`POST` here to price a bulk restore (prefix or manifest), then to start it with the confirmation token."""
    bulk_state_machine_arn: pulumi.Output[str]
    """Standard workflow (Distributed Map) that runs confirmed bulk restores."""
    batches_table_name: pulumi.Output[str]
    """DynamoDB table of bulk restores (confirmation tokens, counters, summary state)."""
    work_bucket_name: pulumi.Output[str]
    """Bucket of bulk item lists and per-object results (expired after 90 days)."""
    dashboard_name: pulumi.Output[str]
    """CloudWatch dashboard for operators: requests and restores by tier, failures, dead letters, cost."""
    download_endpoint: pulumi.Output[str]
    """Where the emailed links download restored objects from."""
    bucket_name: pulumi.Output[str]
    """The archive bucket (created, or the one given)."""
    table_name: pulumi.Output[str]
    """DynamoDB table of restore requests."""
    request_state_machine_arn: pulumi.Output[str]
    """Express workflow that handles restore requests."""
    events_state_machine_arn: pulumi.Output[str]
    """Standard workflow that handles restore completion and expiry events."""
    cost_function_name: pulumi.Output[str]
    """Lambda function that estimates a restore's cost."""
    service_function_name: pulumi.Output[str]
    """Lambda function behind the browse and estimate endpoints."""
    dead_letter_queue_url: pulumi.Output[str]
    """Queue of restore events that could not be processed."""
    sender_identity_arn: pulumi.Output[str]
    """SES identity the emails are sent from."""
    site_url: pulumi.Output[str] | None
    """With `web_site`: the web front end's URL (the API's only CORS origin and the sign-in callback)."""
    site_distribution_id: pulumi.Output[str] | None
    """With `web_site`: the CloudFront distribution serving the pages."""
    site_bucket_name: pulumi.Output[str] | None
    """With `web_site`: the private bucket of the pages (read by CloudFront only)."""
    sign_in_domain: pulumi.Output[str] | None
    """With `web_site`: the Cognito hosted UI the pages send people to (https://<prefix>.auth.<region>...)."""
    sign_in_client_id: pulumi.Output[str] | None
    """With `web_site`: the pages' Cognito app client (public, authorization code with PKCE)."""

    def __init__(self, name: str, args: GlacierRestoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, (args or {}).get("tags"), opts)
        a = self._validate(dict(args or {}))
        self.args = a
        self._workflow_policies: dict[aws.iam.Role, aws.iam.RolePolicy] = {}
        env = self.env
        retention = a["function_settings"]["log_retention_days"]

        # --- archive bucket ------------------------------------------------------------------------------
        if a.get("bucket_name"):
            self.bucket_name: pulumi.Output[str] = pulumi.Output.from_input(a["bucket_name"])
            self.bucket_arn = pulumi.Output.concat("arn:", env.partition, ":s3:::", self.bucket_name)
            self.bucket: aws.s3.Bucket | None = None
            bucket_id: pulumi.Input[str] = a["bucket_name"]
        else:
            self.bucket = self._archive_bucket(a)
            self.bucket_name = self.bucket.bucket
            self.bucket_arn = self.bucket.arn
            bucket_id = self.bucket.id
        objects_arn = pulumi.Output.concat(self.bucket_arn, "/*")
        # Without s3:ListBucket, S3 answers HeadObject/GetObject on a missing key with 403, not 404 (S3 API
        # reference, HeadObject "Permissions"); granted on the bucket ARN only, never on its objects.
        list_bucket = iam.allow(["s3:ListBucket"], [self.bucket_arn], sid="TellMissingKeysApart")
        self._object_head = [iam.allow(["s3:GetObject"], [objects_arn], sid="HeadObjects"), list_bucket]
        # What a presigned download URL's signer needs: the object, and ListBucket so that a key deleted after
        # the URL was issued answers 404, not 403.
        self._object_download = [iam.allow(["s3:GetObject"], [objects_arn], sid="DownloadObjects"), list_bucket]
        if a.get("bucket_kms_key_arn"):
            # A presigned GET of an SSE-KMS object is decrypted with the signer's permissions; only S3 may
            # use the key for it (kms:ViaService, https://docs.aws.amazon.com/kms/latest/developerguide/
            # conditions-kms.html#conditions-kms-via-service).
            self._object_download.append(iam.allow(
                ["kms:Decrypt"], [a["bucket_kms_key_arn"]], sid="DecryptArchivedObjects",
                conditions={"StringEquals": {"kms:ViaService": pulumi.Output.concat("s3.", env.region, ".",
                                                                                      env.dns_suffix)}}))
        if a["manage_bucket_notifications"]:
            aws.s3.BucketNotification(
                self.child_name("bucket-events"), bucket=bucket_id, eventbridge=True,
                opts=self.child_opts(retain_on_delete=self.bucket is not None))

        self.machine_logs: dict[str, aws.cloudwatch.LogGroup] = {}

        # --- request records -----------------------------------------------------------------------------
        self.table = aws.dynamodb.Table(
            self.child_name("requests"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="objectKey",
            attributes=[{"name": "objectKey", "type": "S"}],
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True},
            deletion_protection_enabled=a["protect_data"],
            tags=self.tags,
            opts=self.child_opts())

        # --- SES sender ----------------------------------------------------------------------------------
        identity = a["sender_identity"]
        if a["create_sender_identity"]:
            self.sender_identity = aws.sesv2.EmailIdentity(
                self.child_name("sender"), email_identity=identity, tags=self.tags, opts=self.child_opts())
            self.sender_identity_arn = self.sender_identity.arn
        else:
            self.sender_identity_arn = env.arn("ses", f"identity/{identity}")
        send_email = iam.allow(["ses:SendEmail"], [self.sender_identity_arn], sid="SendFromVerifiedSender",
                               conditions={"StringEquals": {"ses:FromAddress": a["sender_email"]}})

        # --- the API (created first: its id names the download endpoint the emails cite) ----------------
        self.api = aws.apigateway.RestApi(
            self.child_name("api"),
            description=f"{a['service_name']}: request restores of archived objects and download them",
            endpoint_configuration={"types": "REGIONAL"},
            tags=self.tags,
            opts=self.child_opts())
        stage = a["stage_name"]
        self.api_url = pulumi.Output.concat("https://", self.api.id, ".execute-api.", env.region, ".",
                                            env.dns_suffix, "/", stage)
        self.download_endpoint = pulumi.Output.concat(self.api_url, "/download")

        # --- web front end (CloudFront, private bucket, Cognito hosted UI) -------------------------------
        self.site: Site | None = build_site(self, a, self.api, self.api_url) if a.get("web_site") else None
        site_url = self.site.url if self.site else pulumi.Output.from_input("")

        # --- cost estimate Lambda ------------------------------------------------------------------------
        self.cost_function = PythonFunction(
            self.child_name("cost"),
            code="glacier_restore/cost_estimate",
            service="glacier-restore-cost",
            description="Estimates the cost of a completed archive restore",
            statements=[iam.allow(["pricing:GetProducts"], ["*"], sid="ReadPriceList")],
            environment={
                "PRICES": json.dumps(a["prices"], sort_keys=True),
                "USE_PRICE_LIST": "true" if a["use_price_list"] else "false",
                "PRICING_REGION": a["pricing_region"],
            },
            settings=a["function_settings"],
            timeout_seconds=30,
            tags=a.get("tags"),
            opts=self.child_opts())

        # --- bulk restores: batches (tokens, counters) and the work bucket (item lists, results) -----------
        self.batches_table = aws.dynamodb.Table(
            self.child_name("batches"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="batchId",
            attributes=[{"name": "batchId", "type": "S"}],
            ttl={"attribute_name": "expiresAt", "enabled": True},  # unconfirmed batches go away
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True},
            deletion_protection_enabled=a["protect_data"],
            tags=self.tags,
            opts=self.child_opts())
        self.work_bucket = self._work_bucket()

        # --- restore-state steps ASL cannot do: decode event keys, decide extensions (no AWS permissions) ----
        self.restore_state_function = PythonFunction(
            self.child_name("state"),
            code="glacier_restore/restore_state",
            service="glacier-restore-state",
            description="Decodes S3 event keys and decides restore extensions for the restore workflows",
            statements=[],
            settings=a["function_settings"],
            timeout_seconds=10,
            tags=a.get("tags"),
            opts=self.child_opts())
        invoke_restore_state = iam.allow(["lambda:InvokeFunction"], [self.restore_state_function.arn],
                                         sid="RestoreStateSteps")

        settings = pulumi.Output.all(self.bucket_name, self.table.name, self.download_endpoint,
                                     self.cost_function.arn, self.restore_state_function.arn,
                                     self.batches_table.name, self.work_bucket.bucket, site_url).apply(
            lambda v: WorkflowSettings(bucket=v[0], table=v[1], sender=a["sender_email"], download_endpoint=v[2],
                                       allowed_tiers=tuple(a["allowed_tiers"]), default_tier=a["default_tier"],
                                       default_days=a["default_days"], max_days=a["max_days"],
                                       cost_function_arn=v[3], restore_state_function_arn=v[4],
                                       service_name=a["service_name"], batches_table=v[5], work_bucket=v[6],
                                       group_prefixes=a["group_prefixes"], site_url=v[7]))

        # --- request workflow (EXPRESS) ------------------------------------------------------------------
        request_role = self._workflow_role("request-role", "Runs the restore request workflow", [
            iam.allow(["s3:GetObject", "s3:RestoreObject"], [objects_arn], sid="HeadAndRestoreArchivedObjects"),
            list_bucket,
            iam.allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], [self.table.arn], sid="RecordRequests"),
            invoke_restore_state,
            send_email,
        ])
        self.request_workflow = self._state_machine(
            "request", "EXPRESS", request_role,
            settings.apply(lambda s: json.dumps(request_definition(s), separators=(",", ":"))), retention)

        # --- restore events workflow (STANDARD) ----------------------------------------------------------
        events_role = self._workflow_role("events-role", "Runs the restore completion/expiry workflow", [
            iam.allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [self.table.arn], sid="ReadAndUpdateRecords"),
            iam.allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [self.batches_table.arn],
                      sid="CountBatchCompletions"),
            iam.allow(["lambda:InvokeFunction"], [self.cost_function.arn], sid="EstimateCost"),
            invoke_restore_state,
            send_email,
        ])
        self.events_workflow = self._state_machine(
            "events", "STANDARD", events_role,
            settings.apply(lambda s: json.dumps(events_definition(s), separators=(",", ":"))), retention)

        self._bulk_workflow(a, objects_arn, send_email, retention)
        self._event_rules(a)
        self._api(a, retention)

        self._dashboard(a)

        self.finish({
            "apiUrl": self.api_url,
            "restoreEndpoint": pulumi.Output.concat(self.api_url, "/restores"),
            "downloadEndpoint": self.download_endpoint,
            "bucketName": self.bucket_name,
            "tableName": self.table.name,
            "requestStateMachineArn": self.request_workflow.arn,
            "eventsStateMachineArn": self.events_workflow.arn,
            "costFunctionName": self.cost_function.function_name,
            "objectsEndpoint": pulumi.Output.concat(self.api_url, "/objects"),
            "estimateEndpoint": pulumi.Output.concat(self.api_url, "/restores/estimate"),
            "serviceFunctionName": self.service_function.function_name,
            "bulkEndpoint": pulumi.Output.concat(self.api_url, "/restores/bulk"),
            "bulkStateMachineArn": self.bulk_workflow.arn,
            "batchesTableName": self.batches_table.name,
            "workBucketName": self.work_bucket.bucket,
            "dashboardName": self.dashboard.dashboard_name,
            "deadLetterQueueUrl": self.dead_letter_queue.url,
            "senderIdentityArn": self.sender_identity_arn,
            **({"siteUrl": self.site.url, "siteDistributionId": self.site.distribution.id,
                "siteBucketName": self.site.bucket.bucket, "signInDomain": self.site.cognito_origin,
                "signInClientId": self.site.client.id} if self.site else {}),
        })

    # --- validation ----------------------------------------------------------------------------------------

    def _validate(self, a: dict[str, Any]) -> dict[str, Any]:
        v = self.validator
        v.mapping("", a, known=GlacierRestoreArgs.__annotations__)
        sender = v.email("sender_email", v.required(a, "sender_email"))
        identity = a.setdefault("sender_identity", sender)
        if not v.is_unknown(identity) and not v.is_unknown(sender):
            if "@" in str(identity):
                v.check("sender_identity", identity, lambda i: i.lower() == sender.lower(),
                        f"the sender address itself ('{sender}') or a domain covering it; an SES identity for "
                        "another address cannot verify this sender")
            else:
                v.string("sender_identity", identity, pattern=DOMAIN_PATTERN,
                         allowed="an email address or a domain name such as 'research.example.org'")
                domain = sender.rsplit("@", 1)[1].lower()
                v.check("sender_identity", identity,
                        lambda i: domain == i.lower() or domain.endswith("." + i.lower()),
                        f"'{sender}' or the domain '{domain}' (or a parent of it); SES can only send from "
                        "addresses its verified identity covers")
        v.boolean("create_sender_identity", a.setdefault("create_sender_identity", True))
        if a.get("bucket_name") is not None:
            v.string("bucket_name", a["bucket_name"], pattern=BUCKET_NAME_PATTERN,
                     allowed="an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)")
        if a.get("bucket_kms_key_arn") is not None:
            if a.get("bucket_name") is None:
                v.fail("bucket_kms_key_arn", a["bucket_kms_key_arn"],
                       "no value unless bucket_name names an existing bucket (the created bucket uses SSE-S3)")
            v.string("bucket_kms_key_arn", a["bucket_kms_key_arn"], pattern=KMS_KEY_ARN_PATTERN,
                     allowed="the ARN of the bucket's KMS key, arn:aws:kms:<region>:<account>:key/<key id> "
                             "(not an alias: IAM authorizes kms:Decrypt against the key ARN)")
        v.boolean("protect_data", a.setdefault("protect_data", False))
        v.boolean("manage_bucket_notifications", a.setdefault("manage_bucket_notifications", True))

        classes = v.list_of("storage_classes", a.setdefault("storage_classes", ["DEEP_ARCHIVE"]), min_items=1,
                            unique=True)
        for i, sc in enumerate(classes):
            v.choice(f"storage_classes[{i}]", sc, TIERS_BY_STORAGE_CLASS)
        supported = [t for t in ALL_TIERS if any(t in TIERS_BY_STORAGE_CLASS[sc] for sc in classes)]
        tiers = v.list_of("allowed_tiers", a.setdefault("allowed_tiers", ["Standard", "Bulk"]), min_items=1,
                          unique=True)
        for i, tier in enumerate(tiers):
            v.choice(f"allowed_tiers[{i}]", tier, ALL_TIERS)
            v.check(f"allowed_tiers[{i}]", tier, lambda t: t in supported,
                    f"a tier the storage classes {', '.join(classes)} support: {', '.join(supported)} "
                    "(S3 Glacier Deep Archive has no Expedited retrieval)")
        v.choice("default_tier", a.setdefault("default_tier", "Standard" if "Standard" in tiers else tiers[0]),
                 tiers)
        v.integer("max_days", a.setdefault("max_days", 30), minimum=1, maximum=MAX_RESTORE_DAYS)
        v.integer("default_days", a.setdefault("default_days", min(7, a["max_days"])), minimum=1,
                  maximum=a["max_days"])
        # At most the signer session's length less the download function's clock margin (see _download_signer).
        v.integer("download_url_ttl_seconds", a.setdefault("download_url_ttl_seconds", 900), minimum=60,
                  maximum=MAX_DOWNLOAD_URL_TTL)
        site = a.get("web_site")
        v.choice("auth", a.setdefault("auth", "iam" if site is None else "cognito"), AUTH_MODES)
        if site is not None and a["auth"] != "cognito":
            v.fail("auth", a["auth"], "'cognito' with web_site: the pages sign people in through Cognito and send "
                                      "its ID token (a browser has no IAM credentials to sign requests with)")
        pools = a.setdefault("cognito_user_pool_arns", [])
        if a["auth"] == "cognito":
            v.list_of("cognito_user_pool_arns", pools, min_items=1)
            for i, pool in enumerate(pools):
                v.string(f"cognito_user_pool_arns[{i}]", pool,
                         pattern=r"arn:aws[\w-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool/[\w-]+_[0-9A-Za-z]+",
                         allowed="a Cognito user pool ARN")
        elif pools:
            v.fail("cognito_user_pool_arns", pools, "no value unless auth is 'cognito'")
        groups = v.mapping("group_prefixes", a.setdefault("group_prefixes", {}))
        if groups and a["auth"] != "cognito":
            v.fail("group_prefixes", groups, "no value unless auth is 'cognito' (groups come from Cognito tokens)")
        for group, prefixes in groups.items():
            # Cognito allows 1-128 letters, marks, symbols, digits and punctuation (CreateGroup GroupName);
            # commas and brackets would be ambiguous in the `cognito:groups` claim text API Gateway passes on.
            v.string(f"group_prefixes.{group}", group, pattern=r"[^\s,\[\]\"\\]{1,128}",
                     allowed="a Cognito group name (1-128 characters, no spaces, commas, brackets, quotes or "
                             "backslashes)")
            for i, prefix in enumerate(v.list_of(f"group_prefixes.{group}", prefixes, min_items=1, unique=True)):
                v.check(f"group_prefixes.{group}[{i}]", prefix,
                        lambda p: isinstance(p, str) and 0 < len(p.encode()) <= MAX_KEY_BYTES,
                        f"a key prefix of 1 to {MAX_KEY_BYTES} bytes")
        size = len(json.dumps(groups, sort_keys=True).encode())
        if size > MAX_GROUP_PREFIXES_BYTES:
            v.fail("group_prefixes", f"{size} bytes as JSON", f"at most {MAX_GROUP_PREFIXES_BYTES} bytes as JSON "
                   "(it is passed in the functions' environment, which Lambda limits to 4 KB in aggregate)")
        if site is not None:
            a["web_site"] = self._validate_site(site)
        v.integer("browse_page_size", a.setdefault("browse_page_size", 100), minimum=1, maximum=MAX_BROWSE_PAGE_SIZE)
        v.integer("max_bulk_objects", a.setdefault("max_bulk_objects", 100_000), minimum=1, maximum=MAX_BULK_OBJECTS)
        v.integer("bulk_restore_rate", a.setdefault("bulk_restore_rate", 100), minimum=1,
                  maximum=MAX_BULK_RESTORE_RATE)
        v.integer("bulk_batch_size", a.setdefault("bulk_batch_size", 100), minimum=1, maximum=MAX_BULK_BATCH_SIZE)
        v.integer("bulk_token_ttl_seconds", a.setdefault("bulk_token_ttl_seconds", 900), minimum=60, maximum=3600)
        if "inventory_bucket_name" in a:
            v.string("inventory_bucket_name", a["inventory_bucket_name"], pattern=BUCKET_NAME_PATTERN,
                     allowed="an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)")
        if "inventory_prefix" in a:
            if "inventory_bucket_name" not in a:
                v.fail("inventory_prefix", a["inventory_prefix"], "no value without inventory_bucket_name")
            v.string("inventory_prefix", a["inventory_prefix"], pattern=r"[^/\x00-\x1f\x7f]([^\x00-\x1f\x7f]{0,510}"
                     r"[^/\x00-\x1f\x7f])?", allowed="a key prefix of 1-512 characters without control characters, "
                                                  "not starting or ending with /")
        a["prices"] = self._validate_prices(a.get("prices"), classes, tiers)
        v.boolean("use_price_list", a.setdefault("use_price_list", True))
        v.choice("pricing_region", a.setdefault("pricing_region", "us-east-1"), PRICING_REGIONS)
        v.string("stage_name", a.setdefault("stage_name", "v1"), pattern=r"[A-Za-z0-9_]{1,128}",
                 allowed="letters, digits and underscores")
        v.number("throttling_rate_limit", a.setdefault("throttling_rate_limit", 10.0), exclusive_minimum=0)
        v.integer("throttling_burst_limit", a.setdefault("throttling_burst_limit", 20), minimum=1)
        for i, arn in enumerate(v.list_of("alarm_actions", a.setdefault("alarm_actions", []))):
            v.string(f"alarm_actions[{i}]", arn, pattern=r"arn:aws[\w-]*:[a-z0-9-]+:.+", allowed="an ARN")
        v.string("service_name", a.setdefault("service_name", "Archive restore service"), max_len=80,
                 pattern=r"[\w .,()-]+", allowed="1-80 letters, digits, spaces and .,()- (used in email subjects)")
        a["function_settings"] = validate_settings(type(self).__name__, a.get("function_settings"))
        return a

    def _validate_site(self, given: Any) -> dict[str, Any]:
        v = self.validator
        w = dict(v.mapping("web_site", given, known=WebSiteSettings.__annotations__))
        prefix = v.string("web_site.cognito_domain_prefix", v.required(w, "cognito_domain_prefix", "web_site."),
                          pattern=COGNITO_DOMAIN_PREFIX_PATTERN,
                          allowed="1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen")
        v.check("web_site.cognito_domain_prefix", prefix,
                lambda p: not any(word in p for word in COGNITO_RESERVED_WORDS),
                "a prefix without the reserved words " + ", ".join(COGNITO_RESERVED_WORDS)
                + " (Cognito refuses them in domain prefixes)")
        names = v.list_of("web_site.domain_names", w.setdefault("domain_names", []), unique=True)
        for i, name in enumerate(names):
            v.string(f"web_site.domain_names[{i}]", name, pattern=DOMAIN_PATTERN, allowed="a domain name such as "
                     "'restores.research.example.org'")
        if names and w.get("certificate_arn") is None:
            v.fail("web_site.certificate_arn", None, "the ARN of an ACM certificate in us-east-1 covering "
                   "domain_names (CloudFront serves custom domains only with one)")
        if w.get("certificate_arn") is not None:
            if not names:
                v.fail("web_site.certificate_arn", w["certificate_arn"], "no value unless domain_names is set")
            v.string("web_site.certificate_arn", w["certificate_arn"], pattern=CLOUDFRONT_CERTIFICATE_PATTERN,
                     allowed="an ACM certificate ARN in us-east-1, the only Region CloudFront reads certificates from")
        v.choice("web_site.price_class", w.setdefault("price_class", "PriceClass_100"), PRICE_CLASSES)
        # The origin access control is named `<component name>-site-<API id (10 characters)>`, and CloudFront allows
        # "up to 64 characters" (CreateOriginAccessControl, OriginAccessControlConfig.Name, botocore's model).
        longest = OAC_NAME_MAX - len("-site-") - API_ID_LENGTH
        if len(self.component_name) > longest:
            v.fail("web_site", self.component_name, f"a component name of at most {longest} characters with web_site "
                   f"(it names the CloudFront origin access control, at most {OAC_NAME_MAX} characters)")
        return w

    def _validate_prices(self, given: Any, classes: Sequence[str], tiers: Sequence[str]) -> dict[str, Any]:
        v = self.validator
        prices = dict(DEFAULT_PRICES)
        if given is not None:
            v.mapping("prices", given, known=PriceSettings.__annotations__)
            prices.update(given)
        v.string("prices.currency", prices["currency"], pattern=r"[A-Z]{3}", allowed="an ISO currency code")
        for table in ("retrieval_per_gb", "requests_per_1000"):
            field = f"prices.{table}"
            v.mapping(field, prices[table], known=TIERS_BY_STORAGE_CLASS)
            for sc in classes:
                per_tier = prices[table].get(sc)
                if per_tier is None:
                    v.fail(f"{field}.{sc}", None, f"prices for the storage class {sc}")
                v.mapping(f"{field}.{sc}", per_tier, known=TIERS_BY_STORAGE_CLASS[sc])
                for tier in tiers:
                    if tier in TIERS_BY_STORAGE_CLASS[sc]:
                        v.number(f"{field}.{sc}.{tier}", per_tier.get(tier), minimum=0)
        v.number("prices.restored_storage_per_gb_month", prices["restored_storage_per_gb_month"], minimum=0)
        v.number("prices.data_transfer_out_per_gb", prices["data_transfer_out_per_gb"], minimum=0)
        return {k: (dict(val) if isinstance(val, Mapping) else val) for k, val in prices.items()}

    # --- building blocks -----------------------------------------------------------------------------------

    def _archive_bucket(self, a: Mapping[str, Any]) -> aws.s3.Bucket:
        """A versioned, encrypted, private, TLS-only bucket that outlives the stack."""
        bucket = aws.s3.Bucket(self.child_name("archive"), force_destroy=False, tags=self.tags,
                               opts=self.child_opts(retain_on_delete=True, protect=a["protect_data"]))
        # The settings stay too: deleting them would strip versioning, encryption or blocking from the bucket.
        keep = self.child_opts(retain_on_delete=True)
        aws.s3.BucketOwnershipControls(self.child_name("archive-ownership"), bucket=bucket.id,
                                       rule={"object_ownership": "BucketOwnerEnforced"}, opts=keep)
        aws.s3.BucketVersioning(self.child_name("archive-versioning"), bucket=bucket.id,
                                versioning_configuration={"status": "Enabled"}, opts=keep)
        aws.s3.BucketServerSideEncryptionConfiguration(
            self.child_name("archive-encryption"), bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                    "bucket_key_enabled": True}], opts=keep)
        block = aws.s3.BucketPublicAccessBlock(
            self.child_name("archive-public-access"), bucket=bucket.id, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True, opts=keep)
        aws.s3.BucketPolicy(
            self.child_name("archive-tls-only"), bucket=bucket.id,
            policy=pulumi.Output.json_dumps(tls_only_policy(bucket.arn)),
            opts=self.child_opts(retain_on_delete=True, depends_on=[block]))
        return bucket

    def _work_bucket(self) -> aws.s3.Bucket:
        """Private, encrypted, TLS-only bucket for bulk item lists and results, emptied after a while."""
        bucket = aws.s3.Bucket(self.child_name("work"), force_destroy=True, tags=self.tags, opts=self.child_opts())
        aws.s3.BucketOwnershipControls(self.child_name("work-ownership"), bucket=bucket.id,
                                       rule={"object_ownership": "BucketOwnerEnforced"}, opts=self.child_opts())
        aws.s3.BucketServerSideEncryptionConfiguration(
            self.child_name("work-encryption"), bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                    "bucket_key_enabled": True}], opts=self.child_opts())
        block = aws.s3.BucketPublicAccessBlock(
            self.child_name("work-public-access"), bucket=bucket.id, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True, opts=self.child_opts())
        aws.s3.BucketLifecycleConfiguration(
            self.child_name("work-expiry"), bucket=bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-bulk-work", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=WORK_RETENTION_DAYS),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=1))],
            opts=self.child_opts())
        aws.s3.BucketPolicy(
            self.child_name("work-tls-only"), bucket=bucket.id,
            policy=pulumi.Output.json_dumps(tls_only_policy(bucket.arn)),
            opts=self.child_opts(depends_on=[block]))
        return bucket

    def _bulk_workflow(self, a: Mapping[str, Any], objects_arn: pulumi.Input[str], send_email: iam.Statement,
                       retention: int) -> None:
        """The STANDARD bulk workflow (Distributed Map); its right to start its own children comes after it."""
        work = self.work_bucket.arn
        role = self._workflow_role("bulk-role", "Runs bulk restores (Distributed Map)", [
            iam.allow(["s3:GetObject"], [pulumi.Output.concat(work, "/batches/*")], sid="ReadBatchItems"),
            # Without s3:ListBucket S3 answers a missing item list with 403 instead of 404.
            iam.allow(["s3:ListBucket"], [work], sid="TellMissingItemListsApart"),
            iam.allow(["s3:PutObject"], [pulumi.Output.concat(work, "/results/*")], sid="WriteBatchResults"),
            iam.allow(["s3:RestoreObject"], [objects_arn], sid="RestoreArchivedObjects"),
            iam.allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], [self.table.arn], sid="RecordBatchObjects"),
            iam.allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [self.batches_table.arn], sid="CountBatches"),
            send_email,
        ])
        definition = pulumi.Output.all(self.bucket_name, self.table.name, self.batches_table.name,
                                       self.work_bucket.bucket).apply(
            lambda v: json.dumps(bulk_definition(BulkSettings(
                bucket=v[0], table=v[1], batches_table=v[2], work_bucket=v[3], sender=a["sender_email"],
                service_name=a["service_name"], restore_rate=a["bulk_restore_rate"],
                batch_size=a["bulk_batch_size"], max_items=a["max_bulk_objects"])), separators=(",", ":")))
        self.bulk_workflow = self._state_machine("bulk", "STANDARD", role, definition, retention)
        executions = pulumi.Output.concat(
            self.bulk_workflow.arn.apply(lambda arn: arn.replace(":stateMachine:", ":execution:")), "/*")
        aws.iam.RolePolicy(
            self.child_name("bulk-role-children"), role=role.id,
            policy=iam.document(
                iam.allow(["states:StartExecution"], [self.bulk_workflow.arn], sid="StartChildExecutions"),
                iam.allow(["states:DescribeExecution", "states:StopExecution"], [executions],
                          sid="ManageChildExecutions")),
            opts=self.child_opts())

    def _workflow_role(self, suffix: str, description: str, statements: list[iam.Statement]) -> aws.iam.Role:
        """A hand-written role for a workflow: its SDK calls, plus X-Ray and log delivery (unscopable)."""
        role = aws.iam.Role(
            self.child_name(suffix), description=description,
            assume_role_policy=iam.service_trust("states.amazonaws.com", source_account=self.env.account_id),
            tags=self.tags, opts=self.child_opts())
        # The state machine waits for this policy: CreateStateMachine checks that the role may deliver logs
        # (AccessDeniedException otherwise; https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).
        self._workflow_policies[role] = aws.iam.RolePolicy(
            self.child_name(f"{suffix}-policy"), role=role.id,
            policy=iam.document(*statements, iam.allow(XRAY_ACTIONS, ["*"], sid="XRayTracing"),
                                iam.allow(SFN_LOG_DELIVERY_ACTIONS, ["*"], sid="LogDelivery")),
            opts=self.child_opts())
        return role

    def _state_machine(self, suffix: str, kind: str, role: aws.iam.Role, definition: pulumi.Input[str],
                       retention: int) -> aws.sfn.StateMachine:
        logs = self.machine_logs[suffix] = aws.cloudwatch.LogGroup(
            self.child_name(f"{suffix}-logs"), name_prefix=f"/aws/vendedlogs/states/{self.component_name}-{suffix}-",
            retention_in_days=retention, tags=self.tags, opts=self.child_opts())
        return aws.sfn.StateMachine(
            self.child_name(suffix), type=kind, role_arn=role.arn, definition=definition,
            logging_configuration={"level": "ALL", "include_execution_data": True,
                                   "log_destination": pulumi.Output.concat(logs.arn, ":*")},
            tracing_configuration={"enabled": True},
            tags=self.tags,
            opts=self.child_opts(depends_on=[logs, self._workflow_policies[role]]))

    def _event_rules(self, a: Mapping[str, Any]) -> None:
        """Restore events → the STANDARD workflow, with retries, a dead-letter queue and alarms."""
        self.dead_letter_queue = aws.sqs.Queue(
            self.child_name("events-dlq"), message_retention_seconds=1209600, sqs_managed_sse_enabled=True,
            tags=self.tags, opts=self.child_opts())
        target_role = aws.iam.Role(
            self.child_name("events-target-role"), description="Lets EventBridge start the restore events workflow",
            assume_role_policy=iam.service_trust("events.amazonaws.com", source_account=self.env.account_id),
            tags=self.tags, opts=self.child_opts())
        aws.iam.RolePolicy(
            self.child_name("events-target-policy"), role=target_role.id,
            policy=iam.document(iam.allow(["states:StartExecution"], [self.events_workflow.arn],
                                          sid="StartRestoreEventsWorkflow")),
            opts=self.child_opts())
        self.rules: dict[str, aws.cloudwatch.EventRule] = {}
        for suffix, detail_type in (("completed", "Object Restore Completed"), ("expired", "Object Restore Expired")):
            rule = aws.cloudwatch.EventRule(
                self.child_name(f"restore-{suffix}"),
                description=f"S3 '{detail_type}' events of the archive bucket",
                event_pattern=self.bucket_name.apply(lambda bucket, dt=detail_type: json.dumps(  # type: ignore[misc]
                    {"source": ["aws.s3"], "detail-type": [dt], "detail": {"bucket": {"name": [bucket]}}})),
                tags=self.tags, opts=self.child_opts())
            aws.cloudwatch.EventTarget(
                self.child_name(f"restore-{suffix}-target"), rule=rule.name, arn=self.events_workflow.arn,
                role_arn=target_role.arn,
                dead_letter_config={"arn": self.dead_letter_queue.arn},
                retry_policy={"maximum_event_age_in_seconds": 86400, "maximum_retry_attempts": 185},
                opts=self.child_opts())
            self.rules[suffix] = rule
        aws.sqs.QueuePolicy(
            self.child_name("events-dlq-policy"), queue_url=self.dead_letter_queue.url,
            policy=iam.document(iam.allow(
                ["sqs:SendMessage"], [self.dead_letter_queue.arn], sid="UndeliverableRestoreEvents",
                principals={"Service": "events.amazonaws.com"},
                conditions={"ArnEquals": {"aws:SourceArn": [r.arn for r in self.rules.values()]}})),
            opts=self.child_opts())
        alarm: dict[str, Any] = {"alarm_actions": list(a["alarm_actions"]), "treat_missing_data": "notBreaching",
                 "comparison_operator": "GreaterThanThreshold", "threshold": 0, "evaluation_periods": 1,
                 "period": 300, "statistic": "Maximum", "tags": self.tags}
        aws.cloudwatch.MetricAlarm(
            self.child_name("events-dlq-alarm"), namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.dead_letter_queue.name},
            alarm_description="Restore events EventBridge could not deliver to the workflow", **alarm,
            opts=self.child_opts())
        aws.cloudwatch.MetricAlarm(
            self.child_name("events-failed-alarm"), namespace="AWS/States", metric_name="ExecutionsFailed",
            dimensions={"StateMachineArn": self.events_workflow.arn},
            alarm_description="A restore completion or expiry could not be recorded", **alarm,
            opts=self.child_opts())

    def _download_signer(self) -> aws.iam.Role:
        """The role whose sessions sign download URLs: it can only read (and decrypt) the bucket's objects.

        A presigned URL "expires when the token expires" when its signer used temporary credentials
        (https://repost.aws/knowledge-center/presigned-url-s3-bucket-expiration), and the function's own
        session may end at any time. The function assumes this role for sessions of a known length; assuming
        a role with a role's session is role chaining, which limits the session to one hour whatever the
        role's MaxSessionDuration (IAM User Guide, "Roles terms and concepts", role chaining:
        https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles.html#iam-term-role-chaining; STS API
        reference, AssumeRole DurationSeconds: https://docs.aws.amazon.com/STS/latest/APIReference/
        API_AssumeRole.html), hence `MAX_DOWNLOAD_URL_TTL`. Only the download function's role may assume it.
        """
        trust = iam.document(iam.allow(["sts:AssumeRole"], sid="DownloadFunctionOnly",
                                       principals={"AWS": self.download_function.role.arn}))
        role = aws.iam.Role(
            self.child_name("download-signer-role"),
            name=self.signer_role_name,
            description=f"{self.component_name}: signs presigned download URLs (read-only on the archive)",
            assume_role_policy=trust,
            max_session_duration=SIGNER_SESSION_SECONDS,
            tags=self.tags,
            opts=self.child_opts())
        aws.iam.RolePolicy(
            self.child_name("download-signer-policy"), role=role.id,
            policy=iam.document(*self._object_download), opts=self.child_opts())
        return role

    def _api(self, a: Mapping[str, Any], retention: int) -> None:
        """POST /restores (direct Step Functions integration) and GET /download (Lambda), all authorized."""
        api = self.api
        authorization = "AWS_IAM"
        authorizer_id: pulumi.Input[str] | None = None
        if a["auth"] == "cognito":
            authorizer = aws.apigateway.Authorizer(
                self.child_name("authorizer"), rest_api=api.id, type="COGNITO_USER_POOLS",
                provider_arns=list(a["cognito_user_pool_arns"]), identity_source="method.request.header.Authorization",
                opts=self.child_opts())
            authorization, authorizer_id = "COGNITO_USER_POOLS", authorizer.id
        self.authorization = authorization

        # POST /restores → StartSyncExecution
        start_role = aws.iam.Role(
            self.child_name("api-start-role"), description="Lets API Gateway run the restore request workflow",
            assume_role_policy=iam.service_trust("apigateway.amazonaws.com"),
            tags=self.tags, opts=self.child_opts())
        aws.iam.RolePolicy(
            self.child_name("api-start-policy"), role=start_role.id,
            policy=iam.document(iam.allow(["states:StartSyncExecution"], [self.request_workflow.arn],
                                          sid="StartRestoreRequestWorkflow")),
            opts=self.child_opts())
        restores = aws.apigateway.Resource(self.child_name("restores"), rest_api=api.id, parent_id=api.root_resource_id,
                                           path_part="restores", opts=self.child_opts())
        validator = aws.apigateway.RequestValidator(self.child_name("body-validator"), rest_api=api.id,
                                                    name="json-object-body", validate_request_body=True,
                                                    opts=self.child_opts())
        model = aws.apigateway.Model(self.child_name("request-model"), rest_api=api.id, name="RestoreRequest",
                                     content_type="application/json", schema=json.dumps(templates.REQUEST_SCHEMA),
                                     description="A restore request: key, days, tier, email",
                                     opts=self.child_opts())
        post = aws.apigateway.Method(
            self.child_name("restores-post"), rest_api=api.id, resource_id=restores.id, http_method="POST",
            authorization=authorization, authorizer_id=authorizer_id, request_validator_id=validator.id,
            request_models={"application/json": model.name}, operation_name="RequestRestore",
            opts=self.child_opts())
        request_template = self.request_workflow.arn.apply(lambda arn: templates.request_template(arn, a["auth"]))
        post_integration = aws.apigateway.Integration(
            self.child_name("restores-integration"), rest_api=api.id, resource_id=restores.id, http_method="POST",
            type="AWS", integration_http_method="POST",
            uri=pulumi.Output.concat("arn:", self.env.partition, ":apigateway:", self.env.region,
                                     ":states:action/StartSyncExecution"),
            credentials=start_role.arn, passthrough_behavior="NEVER",
            request_templates={"application/json": request_template},
            opts=self.child_opts(depends_on=[post]))
        statuses = ["200", "202", "400", "403", "404", "500", "502", "503", "504"]
        # With the web front end, every answer names its origin (and only it) as allowed to read it.
        cors = self._cors_origin()
        method_headers = {f"method.response.header.{CORS_ORIGIN_HEADER}": True} if cors else None
        integration_headers = ({f"method.response.header.{CORS_ORIGIN_HEADER}": cors} if cors else None)
        method_responses = [aws.apigateway.MethodResponse(
            self.child_name(f"restores-{code}"), rest_api=api.id, resource_id=restores.id, http_method="POST",
            status_code=code, response_models={"application/json": "Empty"}, response_parameters=method_headers,
            opts=self.child_opts(depends_on=[post]))
            for code in statuses]
        by_code = dict(zip(statuses, method_responses, strict=True))
        integration_responses = [
            aws.apigateway.IntegrationResponse(
                self.child_name("restores-result"), rest_api=api.id, resource_id=restores.id, http_method="POST",
                status_code="200", response_templates={"application/json": templates.response_template()},
                response_parameters=integration_headers,
                opts=self.child_opts(depends_on=[post_integration, by_code["200"]])),
            aws.apigateway.IntegrationResponse(
                self.child_name("restores-start-rejected"), rest_api=api.id, resource_id=restores.id,
                http_method="POST", status_code="502", selection_pattern=r"4\d{2}",
                response_parameters=integration_headers,
                response_templates={"application/json": templates.start_failed_template()},
                opts=self.child_opts(depends_on=[post_integration, by_code["502"]])),
            aws.apigateway.IntegrationResponse(
                self.child_name("restores-start-failed"), rest_api=api.id, resource_id=restores.id,
                http_method="POST", status_code="503", selection_pattern=r"5\d{2}",
                response_parameters=integration_headers,
                response_templates={"application/json": templates.start_failed_template()},
                opts=self.child_opts(depends_on=[post_integration, by_code["503"]])),
        ]
        bad_body = aws.apigateway.Response(
            self.child_name("bad-body"), rest_api_id=api.id, response_type="BAD_REQUEST_BODY", status_code="400",
            response_templates={"application/json": templates.bad_body_template()},
            response_parameters={f"gatewayresponse.header.{CORS_ORIGIN_HEADER}": cors} if cors else None,
            opts=self.child_opts())
        gateway_responses = [bad_body, *self._cors_gateway_responses(cors)]

        # GET /download → Lambda (Powertools REST handler); it signs URLs with a session of the signer role,
        # whose name is fixed here because the function's environment and policy name it before it exists.
        self.signer_role_name = "download-signer-" + hashlib.sha256(
            f"{pulumi.get_project()}/{pulumi.get_stack()}/{self.component_name}".encode()).hexdigest()[:16]
        signer_arn = self.env.arn("iam", f"role/{self.signer_role_name}", region=False)
        self.download_function = PythonFunction(
            self.child_name("download"),
            code="glacier_restore/download",
            service="glacier-restore-download",
            description="Presigned download URLs for restored objects, for their requesters only",
            statements=[
                *self._object_head,
                iam.allow(["dynamodb:GetItem"], [self.table.arn], sid="ReadRequestRecords"),
                iam.allow(["sts:AssumeRole"], [signer_arn], sid="AssumeDownloadSigner"),
            ],
            environment={
                "BUCKET_NAME": self.bucket_name,
                "TABLE_NAME": self.table.name,
                "URL_TTL_SECONDS": str(a["download_url_ttl_seconds"]),
                "SIGNER_ROLE_ARN": signer_arn,
                "SIGNER_SESSION_SECONDS": str(SIGNER_SESSION_SECONDS),
                "AUTH_MODE": a["auth"],
                "GROUP_PREFIXES": json.dumps(a["group_prefixes"], sort_keys=True),
                "ALLOWED_ORIGIN": self.site.url if self.site else "",
            },
            settings=a["function_settings"],
            tags=a.get("tags"),
            opts=self.child_opts())
        self.signer_role = self._download_signer()
        download = aws.apigateway.Resource(self.child_name("download-resource"), rest_api=api.id,
                                           parent_id=api.root_resource_id, path_part="download",
                                           opts=self.child_opts())
        get = aws.apigateway.Method(
            self.child_name("download-get"), rest_api=api.id, resource_id=download.id, http_method="GET",
            authorization=authorization, authorizer_id=authorizer_id, operation_name="DownloadRestoredObject",
            request_parameters={"method.request.querystring.key": True},
            opts=self.child_opts())
        get_integration = aws.apigateway.Integration(
            self.child_name("download-integration"), rest_api=api.id, resource_id=download.id, http_method="GET",
            type="AWS_PROXY", integration_http_method="POST", uri=self.download_function.invoke_arn,
            opts=self.child_opts(depends_on=[get]))
        self.download_function.allow_invoke(
            "api-permission", "apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(api.execution_arn, "/*/GET/download"))

        service_methods, service_integrations = self._service_routes(a, restores, authorization, authorizer_id)
        self.cors_resources = self._preflight(cors, {"restores": (restores, "POST"), "download": (download, "GET"),
                                                     **self.service_resources})
        # With the site (Cognito), programmatic callers keep SigV4: the same routes under /iam, AWS_IAM-authorized.
        self.iam_resources = (self._iam_routes(start_role, validator, model)
                              if self.site is not None else [])

        # Deployment + stage: access logs, X-Ray, throttling
        self.methods = [post, get, *service_methods]
        fingerprint = pulumi.Output.all(request_template, self.download_function.invoke_arn,
                                        self.service_function.invoke_arn,
                                        *[m.id for m in service_methods], cors or "",
                                        *[r.urn for r in self.iam_resources]).apply(
            lambda parts: hashlib.sha256(json.dumps([
                *parts, templates.response_template(), templates.start_failed_template(),
                templates.bad_body_template(), templates.REQUEST_SCHEMA, authorization]).encode()).hexdigest())
        deployment = aws.apigateway.Deployment(
            self.child_name("deployment"), rest_api=api.id, description=f"{a['service_name']} API",
            triggers={"configuration": fingerprint},
            opts=self.child_opts(depends_on=[post_integration, get_integration, *service_integrations,
                                             *integration_responses, *gateway_responses, *self.cors_resources,
                                             *self.iam_resources,
                                             *method_responses, model, validator]))
        access_logs = aws.cloudwatch.LogGroup(
            self.child_name("api-access-logs"), name_prefix=f"/aws/apigateway/{self.component_name}-",
            retention_in_days=retention, tags=self.tags, opts=self.child_opts())
        self.stage = aws.apigateway.Stage(
            self.child_name("stage"), rest_api=api.id, deployment=deployment.id, stage_name=a["stage_name"],
            xray_tracing_enabled=True,
            access_log_settings={"destination_arn": access_logs.arn, "format": ACCESS_LOG_FORMAT},
            tags=self.tags, opts=self.child_opts())
        aws.apigateway.MethodSettings(
            self.child_name("stage-settings"), rest_api=api.id, stage_name=self.stage.stage_name, method_path="*/*",
            settings={"throttling_rate_limit": a["throttling_rate_limit"],
                      "throttling_burst_limit": a["throttling_burst_limit"],
                      "metrics_enabled": True, "logging_level": "ERROR", "data_trace_enabled": False},
            opts=self.child_opts())


    def _service_routes(self, a: Mapping[str, Any], restores: aws.apigateway.Resource, authorization: str,
                        authorizer_id: pulumi.Input[str] | None
                        ) -> tuple[list[aws.apigateway.Method], list[aws.apigateway.Integration]]:
        """GET /objects, POST /restores/estimate and POST /restores/bulk → the service Lambda.

        It ships the cost Lambda's own archive (handler `service.handler`), so the estimate route and the
        completion workflow run the same estimator on the same prices.
        """
        api = self.api
        inventory_environment: dict[str, pulumi.Input[str]] = {}
        inventory_statements: list[iam.Statement] = []
        if a.get("inventory_bucket_name"):
            # S3 Inventory writes `[prefix/]<source bucket>/<configuration id>/...` (S3 User Guide, "Locating
            # your inventory list"): the service reads only the archive's reports there.
            root = pulumi.Output.concat(f"{a['inventory_prefix']}/" if a.get("inventory_prefix") else "",
                                        self.bucket_name, "/")
            inventory_environment = {"INVENTORY_BUCKET": a["inventory_bucket_name"], "INVENTORY_ROOT": root}
            inventory_arn = pulumi.Output.concat("arn:", self.env.partition, ":s3:::", a["inventory_bucket_name"])
            inventory_statements = [
                iam.allow(["s3:GetObject"], [pulumi.Output.concat(inventory_arn, "/", root, "*")],
                          sid="ReadArchiveInventoryReports"),
                # Without s3:ListBucket (unconditioned: GetObject's request carries no s3:prefix), a missing
                # manifest is a 403, not the 404 this service answers "manifest not found" on.
                iam.allow(["s3:ListBucket"], [inventory_arn], sid="TellMissingInventoryReportsApart"),
            ]
        self.service_resources: dict[str, tuple[aws.apigateway.Resource, str]] = {}
        self.service_function = PythonFunction(
            self.child_name("service"),
            code="glacier_restore/cost_estimate",
            handler="service.handler",
            service="glacier-restore-service",
            description="Browse the archive and estimate restores before asking for them",
            statements=[
                iam.allow(["s3:ListBucket"], [self.bucket_arn], sid="BrowseTheArchive"),
                iam.allow(["s3:GetObject"], [pulumi.Output.concat(self.bucket_arn, "/*")], sid="HeadArchivedObjects"),
                iam.allow(["pricing:GetProducts"], ["*"], sid="ReadPriceList"),
                iam.allow(["s3:PutObject"], [pulumi.Output.concat(self.work_bucket.arn, "/batches/*")],
                          sid="WriteBatchItems"),
                iam.allow(["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"], [self.batches_table.arn],
                          sid="RecordBatches"),
                iam.allow(["states:StartExecution"], [self.bulk_workflow.arn], sid="StartConfirmedBatches"),
                *inventory_statements,
            ],
            environment={
                "BUCKET_NAME": self.bucket_name,
                "WORK_BUCKET": self.work_bucket.bucket,
                "BATCHES_TABLE": self.batches_table.name,
                "BULK_STATE_MACHINE_ARN": self.bulk_workflow.arn,
                "MAX_BULK_OBJECTS": str(a["max_bulk_objects"]),
                "BULK_TOKEN_TTL_SECONDS": str(a["bulk_token_ttl_seconds"]),
                "ALLOWED_TIERS": ",".join(a["allowed_tiers"]),
                "DEFAULT_TIER": a["default_tier"],
                "DEFAULT_DAYS": str(a["default_days"]),
                "MAX_DAYS": str(a["max_days"]),
                "DEFAULT_PAGE_SIZE": str(a["browse_page_size"]),
                "GROUP_PREFIXES": json.dumps(a["group_prefixes"], sort_keys=True),
                **inventory_environment,
                "AUTH_MODE": a["auth"],
                "ALLOWED_ORIGIN": self.site.url if self.site else "",
                "PRICES": json.dumps(a["prices"], sort_keys=True),
                "USE_PRICE_LIST": "true" if a["use_price_list"] else "false",
                "PRICING_REGION": a["pricing_region"],
            },
            settings=a["function_settings"],
            timeout_seconds=25,
            tags=a.get("tags"),
            opts=self.child_opts())
        objects = aws.apigateway.Resource(self.child_name("objects-resource"), rest_api=api.id,
                                          parent_id=api.root_resource_id, path_part="objects", opts=self.child_opts())
        estimate = aws.apigateway.Resource(self.child_name("estimate-resource"), rest_api=api.id,
                                           parent_id=restores.id, path_part="estimate", opts=self.child_opts())
        bulk = aws.apigateway.Resource(self.child_name("bulk-resource"), rest_api=api.id,
                                       parent_id=restores.id, path_part="bulk", opts=self.child_opts())
        routes: list[tuple[str, aws.apigateway.Resource, str, str, str, dict[str, bool] | None]] = [
            ("objects", objects, "objects", "GET", "BrowseArchive",
             {f"method.request.querystring.{q}": False for q in ("prefix", "cursor", "pageSize")}),
            ("estimate", estimate, "restores/estimate", "POST", "EstimateRestore", None),
            ("bulk", bulk, "restores/bulk", "POST", "BulkRestore", None),
        ]
        methods, integrations = [], []
        for suffix, resource, path, verb, operation, parameters in routes:
            method = aws.apigateway.Method(
                self.child_name(f"{suffix}-{verb.lower()}"), rest_api=api.id, resource_id=resource.id,
                http_method=verb, authorization=authorization, authorizer_id=authorizer_id,
                operation_name=operation, request_parameters=parameters, opts=self.child_opts())
            integrations.append(aws.apigateway.Integration(
                self.child_name(f"{suffix}-integration"), rest_api=api.id, resource_id=resource.id,
                http_method=verb, type="AWS_PROXY", integration_http_method="POST",
                uri=self.service_function.invoke_arn, opts=self.child_opts(depends_on=[method])))
            self.service_function.allow_invoke(
                f"{suffix}-permission", "apigateway.amazonaws.com",
                source_arn=pulumi.Output.concat(api.execution_arn, f"/*/{verb}/{path}"))
            methods.append(method)
            self.service_resources[path.replace("/", "-")] = (resource, verb)
        return methods, integrations

    def _iam_routes(self, start_role: aws.iam.Role, validator: aws.apigateway.RequestValidator,
                    model: aws.apigateway.Model) -> list[pulumi.Resource]:
        """`/iam/...`: every route again with AWS_IAM authorization, for programmatic callers of a site deployment.

        The pages sign people in with Cognito; scripts and pipelines keep SigV4 (`execute-api:Invoke` on
        `.../<stage>/<verb>/iam/<route>`). The same workflow and functions answer; they record and check the IAM
        identity on these routes (the request template's principal, the functions' `/iam` resource paths)."""
        api = self.api
        created: list[pulumi.Resource] = []
        root = aws.apigateway.Resource(self.child_name("iam-resource"), rest_api=api.id,
                                       parent_id=api.root_resource_id, path_part="iam", opts=self.child_opts())
        restores = aws.apigateway.Resource(self.child_name("iam-restores"), rest_api=api.id, parent_id=root.id,
                                           path_part="restores", opts=self.child_opts())
        post = aws.apigateway.Method(
            self.child_name("iam-restores-post"), rest_api=api.id, resource_id=restores.id, http_method="POST",
            authorization="AWS_IAM", request_validator_id=validator.id,
            request_models={"application/json": model.name}, operation_name="RequestRestoreIam",
            opts=self.child_opts())
        integration = aws.apigateway.Integration(
            self.child_name("iam-restores-integration"), rest_api=api.id, resource_id=restores.id,
            http_method="POST", type="AWS", integration_http_method="POST",
            uri=pulumi.Output.concat("arn:", self.env.partition, ":apigateway:", self.env.region,
                                     ":states:action/StartSyncExecution"),
            credentials=start_role.arn, passthrough_behavior="NEVER",
            request_templates={"application/json": self.request_workflow.arn.apply(
                lambda arn: templates.request_template(arn, "iam"))},
            opts=self.child_opts(depends_on=[post]))
        statuses = ["200", "202", "400", "404", "500", "502", "503", "504"]
        responses = {code: aws.apigateway.MethodResponse(
            self.child_name(f"iam-restores-{code}"), rest_api=api.id, resource_id=restores.id, http_method="POST",
            status_code=code, response_models={"application/json": "Empty"}, opts=self.child_opts(depends_on=[post]))
            for code in statuses}
        for suffix, code, pattern, template in (
                ("result", "200", None, templates.response_template()),
                ("start-rejected", "502", r"4\d{2}", templates.start_failed_template()),
                ("start-failed", "503", r"5\d{2}", templates.start_failed_template())):
            created.append(aws.apigateway.IntegrationResponse(
                self.child_name(f"iam-restores-{suffix}"), rest_api=api.id, resource_id=restores.id,
                http_method="POST", status_code=code, selection_pattern=pattern,
                response_templates={"application/json": template},
                opts=self.child_opts(depends_on=[integration, responses[code]])))
        created += [root, restores, post, integration, *responses.values()]
        parents = {"": root, "restores": restores}
        browse = {f"method.request.querystring.{q}": False for q in ("prefix", "cursor", "pageSize")}
        routes: list[tuple[str, str, PythonFunction, str, dict[str, bool] | None]] = [
            ("objects", "GET", self.service_function, "BrowseArchiveIam", browse),
            ("restores/estimate", "POST", self.service_function, "EstimateRestoreIam", None),
            ("restores/bulk", "POST", self.service_function, "BulkRestoreIam", None),
            ("download", "GET", self.download_function, "DownloadRestoredObjectIam",
             {"method.request.querystring.key": True})]
        for path, verb, function, operation, parameters in routes:
            parent, _, leaf = path.rpartition("/")
            suffix = "iam-" + path.replace("/", "-")
            resource = aws.apigateway.Resource(self.child_name(f"{suffix}-resource"), rest_api=api.id,
                                               parent_id=parents[parent].id, path_part=leaf, opts=self.child_opts())
            method = aws.apigateway.Method(
                self.child_name(f"{suffix}-{verb.lower()}"), rest_api=api.id, resource_id=resource.id,
                http_method=verb, authorization="AWS_IAM", operation_name=operation, request_parameters=parameters,
                opts=self.child_opts())
            created += [resource, method, aws.apigateway.Integration(
                self.child_name(f"{suffix}-integration"), rest_api=api.id, resource_id=resource.id, http_method=verb,
                type="AWS_PROXY", integration_http_method="POST", uri=function.invoke_arn,
                opts=self.child_opts(depends_on=[method]))]
            function.allow_invoke(f"{suffix}-permission", "apigateway.amazonaws.com",
                                  source_arn=pulumi.Output.concat(api.execution_arn, f"/*/{verb}/iam/{path}"))
        return created

    def _cors_origin(self) -> pulumi.Output[str] | None:
        """The site's origin as an API Gateway header mapping value (a quoted literal), or None without a site."""
        return pulumi.Output.concat("'", self.site.url, "'") if self.site else None

    def _cors_gateway_responses(self, cors: pulumi.Input[str] | None) -> list[aws.apigateway.Response]:
        """API Gateway's own 4xx/5xx answers (authorizer refusals, throttling) readable by the site too."""
        if cors is None:
            return []
        return [aws.apigateway.Response(
            self.child_name(f"gateway-{kind.lower().replace('_', '-')}"), rest_api_id=self.api.id, response_type=kind,
            response_parameters={f"gatewayresponse.header.{CORS_ORIGIN_HEADER}": cors}, opts=self.child_opts())
            for kind in ("DEFAULT_4XX", "DEFAULT_5XX")]

    def _preflight(self, cors: pulumi.Input[str] | None,
                   resources: Mapping[str, tuple[aws.apigateway.Resource, str]]) -> list[pulumi.Resource]:
        """CORS preflight (`OPTIONS`, a MOCK integration) on every route the site calls: its origin only.

        Preflights carry no credentials (Fetch standard, CORS-preflight request), so these methods have no
        authorizer; they answer headers only and reach no backend."""
        if cors is None:
            return []
        api = self.api
        created: list[pulumi.Resource] = []
        for suffix, (resource, verb) in sorted(resources.items()):
            headers = {CORS_ORIGIN_HEADER: cors, "Access-Control-Allow-Methods": f"'{verb},OPTIONS'",
                       "Access-Control-Allow-Headers": "'Authorization,Content-Type'",
                       "Access-Control-Max-Age": f"'{CORS_MAX_AGE}'"}
            method = aws.apigateway.Method(
                self.child_name(f"{suffix}-preflight"), rest_api=api.id, resource_id=resource.id,
                http_method="OPTIONS", authorization="NONE",
                operation_name="Preflight" + suffix.title().replace("-", ""), opts=self.child_opts())
            integration = aws.apigateway.Integration(
                self.child_name(f"{suffix}-preflight-mock"), rest_api=api.id, resource_id=resource.id,
                http_method="OPTIONS", type="MOCK", passthrough_behavior="NEVER",
                request_templates={"application/json": '{"statusCode": 204}'},
                opts=self.child_opts(depends_on=[method]))
            answer = aws.apigateway.MethodResponse(
                self.child_name(f"{suffix}-preflight-204"), rest_api=api.id, resource_id=resource.id,
                http_method="OPTIONS", status_code="204",
                response_parameters={f"method.response.header.{h}": True for h in headers},
                opts=self.child_opts(depends_on=[method]))
            mapped = aws.apigateway.IntegrationResponse(
                self.child_name(f"{suffix}-preflight-headers"), rest_api=api.id, resource_id=resource.id,
                http_method="OPTIONS", status_code="204",
                response_parameters={f"method.response.header.{h}": v for h, v in headers.items()},
                opts=self.child_opts(depends_on=[integration, answer]))
            created += [method, integration, answer, mapped]
        return created

    def _dashboard(self, a: Mapping[str, Any]) -> None:
        """Operators' view: requests and restores per day by tier, failures, dead letters, estimated cost."""
        region = self.env.region
        machines = {"request": self.request_workflow, "events": self.events_workflow, "bulk": self.bulk_workflow}
        functions = [self.cost_function, self.download_function, self.service_function, self.restore_state_function]
        day, month = 86400, 2592000

        def body(v: list[Any]) -> str:
            (reg, api_name, stage, dlq, request_logs, events_logs, machine_arns, function_names) = v
            state_failures = [["AWS/States", "ExecutionsFailed", "StateMachineArn", arn, {"label": label}]
                              for label, arn in machine_arns.items()]
            lambda_errors = [["AWS/Lambda", "Errors", "FunctionName", name] for name in function_names]
            widgets = [
                {"type": "log", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
                    "title": "Restore requests per day by tier", "region": reg, "view": "bar",
                    "query": f"SOURCE '{request_logs}' | filter type = 'ExecutionSucceeded' "
                             "| parse details.output '\"tier\":\"*\"' as tier "
                             "| stats count(*) as requests by bin(1d), tier"}},
                {"type": "log", "x": 12, "y": 0, "width": 12, "height": 6, "properties": {
                    "title": "Restores completed per day by tier", "region": reg, "view": "bar",
                    "query": f"SOURCE '{events_logs}' | filter type = 'ExecutionSucceeded' "
                             "| parse details.output '\"tier\":\"*\"' as tier "
                             "| stats count(*) as restores by bin(1d), tier"}},
                {"type": "metric", "x": 0, "y": 6, "width": 8, "height": 6, "properties": {
                    "title": "Failed workflow executions", "region": reg, "stat": "Sum", "period": day,
                    "view": "timeSeries", "metrics": state_failures}},
                {"type": "metric", "x": 8, "y": 6, "width": 8, "height": 6, "properties": {
                    "title": "API errors and Lambda errors", "region": reg, "stat": "Sum", "period": day,
                    "view": "timeSeries", "metrics": [
                        ["AWS/ApiGateway", "5XXError", "ApiName", api_name, "Stage", stage],
                        ["AWS/ApiGateway", "4XXError", "ApiName", api_name, "Stage", stage], *lambda_errors]}},
                {"type": "metric", "x": 16, "y": 6, "width": 8, "height": 6, "properties": {
                    "title": "Dead-letter queue depth (undelivered restore events)", "region": reg,
                    "stat": "Maximum", "period": 300, "view": "timeSeries", "metrics": [
                        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlq]]}},
                {"type": "metric", "x": 0, "y": 12, "width": 24, "height": 6, "properties": {
                    "title": f"Estimated restore cost per month ({a['prices']['currency']}, completed restores)",
                    "region": reg, "stat": "Sum", "period": month, "view": "bar", "metrics": [
                        ["ServerlessPatterns", "EstimatedRestoreCost", "service", "glacier-restore-cost"]]}},
            ]
            return json.dumps({"widgets": widgets}, sort_keys=True)

        self.dashboard = aws.cloudwatch.Dashboard(
            self.child_name("dashboard"),
            dashboard_name=pulumi.Output.concat(self.component_name, "-restores-", self.api.id),
            dashboard_body=pulumi.Output.all(
                region, self.api.name, self.stage.stage_name, self.dead_letter_queue.name,
                self.machine_logs["request"].name, self.machine_logs["events"].name,
                pulumi.Output.all(*[m.arn for m in machines.values()]).apply(
                    lambda arns: dict(zip(machines, arns, strict=True))),
                pulumi.Output.all(*[f.function_name for f in functions])).apply(body),
            opts=self.child_opts())


def tls_only_policy(bucket_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Deny every request to the bucket over plain HTTP or TLS older than 1.2."""
    resources = [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")]
    return iam.document_data(
        iam.deny(["s3:*"], resources, sid="DenyInsecureTransport", principals={"AWS": "*"},
                 conditions={"Bool": {"aws:SecureTransport": "false"}}),
        iam.deny(["s3:*"], resources, sid="DenyOldTls", principals={"AWS": "*"},
                 conditions={"NumericLessThan": {"s3:TlsVersion": "1.2"}}))


