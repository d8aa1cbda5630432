"""The README's first steps through a Python client generated from simgate's OpenAPI document.

Every call goes through the generated code and its answer is parsed into the model the document names
for that status: an answer whose shape differs from the document fails here (as it would fail any
client generated from it). Usage: first_steps.py BASE_URL (SIMGATE_ADMIN_PASSWORD in the environment).
"""
import hashlib
import os
import sys

from simgate_client import AuthenticatedClient, Client
from simgate_client.api.admin import (
    admin_create_organisation,
    admin_create_rate_plan,
    admin_create_sim_batch,
    admin_create_sim_model,
    admin_create_token,
    admin_create_user,
    admin_ingest_usage,
    admin_list_organisations,
)
from simgate_client.api.emnify import emnify_authenticate, emnify_list_sims, emnify_register_sim_batch
from simgate_client.api.ops import ops_version
from simgate_client.api.telecomx import (
    telecomx_assign_sim_post,
    telecomx_create_account,
    telecomx_delete_account,
    telecomx_get_account,
    telecomx_import_sims,
    telecomx_list_deleted_accounts,
    telecomx_list_sims,
    telecomx_login_post,
    telecomx_restore_account,
    telecomx_sim_status,
)
from simgate_client.models import (
    AccountList,
    AuthenticateRequest,
    AuthenticateResponse,
    BatchCreated,
    BatchSimInput,
    CreateAccountRequest,
    Created,
    CreatedToken,
    CreateBatch,
    CreateOrgRequest,
    CreateRatePlanRequest,
    CreateSimModel,
    CreateTokenRequest,
    CreateUserRequest,
    EmnifyError,
    ImportRequest,
    IngestResult,
    LoginRequest,
    LoginResponse,
    ModelDto,
    MvnoAccount,
    OrgDto,
    RatePlanDto,
    Registered,
    RegisterRequest,
    RestoreRequest,
    SimList,
    Success,
    TelecomXError,
    UsageLine,
    UserDto,
)

BASE = sys.argv[1]
ADMIN_PASSWORD = os.environ["SIMGATE_ADMIN_PASSWORD"]


def ok(response, model, status=200):
    """The answer's status, and its body parsed into the documented model."""
    assert response.status_code == status, (response.status_code, response.content)
    parsed = response.parsed
    if model is list:
        assert isinstance(parsed, list), parsed
    else:
        assert isinstance(parsed, model), (type(parsed), response.content)
    return parsed


anon = Client(base_url=BASE, raise_on_unexpected_status=True)
assert ops_version.sync_detailed(client=anon).parsed.version

# Log in; a wrong password is the documented 401 with the TelecomX error body.
bad = telecomx_login_post.sync_detailed(client=anon, body=LoginRequest(username="admin@localhost", password="wrong-one"))
assert bad.status_code == 401 and isinstance(bad.parsed, TelecomXError), bad.content
login = ok(
    telecomx_login_post.sync_detailed(client=anon, body=LoginRequest(username="admin@localhost", password=ADMIN_PASSWORD)),
    LoginResponse,
)
admin = AuthenticatedClient(base_url=BASE, token=login.token, raise_on_unexpected_status=True)

# A reseller, a customer under it, their users, an application token.
reseller = ok(
    admin_create_organisation.sync_detailed(
        client=admin, body=CreateOrgRequest(name="Mobile Reseller ApS", kind="RESELLER", parent="1", country="DK")
    ),
    OrgDto,
    201,
)
customer = ok(
    admin_create_organisation.sync_detailed(
        client=admin, body=CreateOrgRequest(name="Bente Bents Autodele", kind="ENTERPRISE", parent=str(reseller.id))
    ),
    OrgDto,
    201,
)


def create_user(org, email, name, level):
    body = CreateUserRequest(org=str(org.id), email=email, name=name, password="change-me-now", access_level=level)
    return ok(admin_create_user.sync_detailed(client=admin, body=body), UserDto, 201)


ra = create_user(reseller, "ra@reseller.example", "Reseller Admin", "RESELLER_ADMIN")
create_user(customer, "owner@customer.example", "Owner", "OWNER")
app_token = ok(
    admin_create_token.sync_detailed(str(ra.id), client=admin, body=CreateTokenRequest(label="billing system")),
    CreatedToken,
    201,
).token
ra_login = ok(
    telecomx_login_post.sync_detailed(client=anon, body=LoginRequest(username="ra@reseller.example", password="change-me-now")),
    LoginResponse,
)
ra_client = AuthenticatedClient(base_url=BASE, token=ra_login.token, raise_on_unexpected_status=True)
seen = ok(admin_list_organisations.sync_detailed(client=ra_client), object)
assert [o.id for o in seen.items] == [reseller.id, customer.id], seen

# SIM inventory.
imported = telecomx_import_sims.sync_detailed(
    client=admin,
    body=ImportRequest(
        data="8945000000000000001;12345678;87654321;1234;4321;NANO;TDC\n"
        "8945000000000000002;12345678;87654321;1234;4321;eSIM;TELENOR;;;true"
    ),
)
assert ok(imported, object).imported == 2
for icc in ["8945000000000000001", "8945000000000000002"]:
    ok(telecomx_assign_sim_post.sync_detailed(icc, client=admin, customer=str(reseller.id)), Success)
sims = ok(telecomx_list_sims.sync_detailed(client=ra_client, limit=50), SimList)
assert sims.total == 2, sims
assert len(ok(telecomx_sim_status.sync_detailed(client=admin), list)) >= 1

# MVNO accounts.
plan = ok(
    admin_create_rate_plan.sync_detailed(client=admin, body=CreateRatePlanRequest(name="Free speech, 5Gb data")),
    RatePlanDto,
    201,
)
ok(
    telecomx_create_account.sync_detailed(
        client=admin,
        body=CreateAccountRequest(customer=str(customer.id), number="+4512345678", rate_plan=str(plan.id), auto_assign=True),
    ),
    Created,
)
ok(
    telecomx_create_account.sync_detailed(
        client=admin,
        body=CreateAccountRequest(
            customer=str(customer.id), number="+4587654321", rate_plan=plan.oid, sim_number="8945000000000000001"
        ),
    ),
    Created,
)
account = ok(telecomx_get_account.sync_detailed("+4512345678", client=admin), MvnoAccount)
ok(telecomx_delete_account.sync_detailed("+4512345678", client=admin), Success)
deleted = ok(telecomx_list_deleted_accounts.sync_detailed(client=admin, filter_="4512"), AccountList)
assert deleted.total == 1, deleted
ok(telecomx_restore_account.sync_detailed("+4512345678", client=admin, body=RestoreRequest()), Success)
missing = telecomx_get_account.sync_detailed("+4500000000", client=admin)
assert missing.status_code == 404 and isinstance(missing.parsed, TelecomXError), missing.content

# emnify: a SIM model, a batch for the reseller, registered with its application token; usage.
model = ok(
    admin_create_sim_model.sync_detailed(
        client=admin, body=CreateSimModel(description="Triple cut", form_factor="MINI_MICRO_NANO", memory_size=128)
    ),
    ModelDto,
    201,
)
ok(
    admin_create_sim_batch.sync_detailed(
        client=admin,
        body=CreateBatch(
            bic="BATCH-1", issuer_org=str(reseller.id), model=model.id,
            sims=[BatchSimInput(iccid="8988303000000000001", imsi="901430000000001")],
        ),
    ),
    BatchCreated,
    201,
)
jwt = ok(
    emnify_authenticate.sync_detailed(client=anon, body=AuthenticateRequest(application_token=app_token)),
    AuthenticateResponse,
).auth_token
emnify = AuthenticatedClient(base_url=BASE, token=jwt, raise_on_unexpected_status=True)
plain = emnify_authenticate.sync_detailed(
    client=anon, body=AuthenticateRequest(username="ra@reseller.example", password="change-me-now")
)
assert plain.status_code == 422 and isinstance(plain.parsed, EmnifyError), plain.content
hashed = hashlib.sha1(b"change-me-now").hexdigest()
ok(emnify_authenticate.sync_detailed(client=anon, body=AuthenticateRequest(username="ra@reseller.example", password=hashed)), AuthenticateResponse)
ok(emnify_register_sim_batch.sync_detailed("BATCH-1", client=emnify, body=RegisterRequest()), Registered)
listed = ok(emnify_list_sims.sync_detailed(client=emnify, per_page=10), list)
assert "8988303000000000001" in [s.iccid for s in listed], listed
ingest = admin_ingest_usage.sync_detailed(
    client=admin,
    body=[UsageLine(iccid="8988303000000000001", timestamp="2026-03-15T12:10:00Z", traffic_type="data", volume_tx=1.5, volume_rx=2.5, cost=0.1)],
)
ok(ingest, IngestResult)
print(f"first steps through the generated client: ok ({account.number} restored, {len(listed)} SIMs over emnify)")
