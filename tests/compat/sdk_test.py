"""emnify's official Python SDK (emnify-sdk 0.5.3) against a running simgate.

Environment: EMNIFY_SDK_API_ENDPOINT_URL (set before the SDK is imported), SIMGATE_URL,
SIMGATE_ADMIN_EMAIL, SIMGATE_ADMIN_PASSWORD.
"""
import json
import os
import sys
import urllib.request

BASE = os.environ["SIMGATE_URL"]
SIMS = 2100  # more than one page of the SDK's default 2000
BIC = "SDK-BATCH-1"

results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print(("ok   " if condition else "FAIL ") + name + (f" ({detail})" if detail and not condition else ""))


def call(method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


# The tenant: a reseller with a RESELLER_ADMIN, a customer, and a batch issued by the platform.
status, login = call("POST", "/auth/login", body={"username": os.environ["SIMGATE_ADMIN_EMAIL"], "password": os.environ["SIMGATE_ADMIN_PASSWORD"]})
assert status == 200, login
admin = login["token"]
_, reseller = call("POST", "/admin/v1/organisations", admin, {"name": "SDK Reseller", "kind": "RESELLER", "parent": 1})
_, customer = call("POST", "/admin/v1/organisations", admin, {"name": "SDK Customer", "kind": "ENTERPRISE", "parent": reseller["id"]})
_, user = call("POST", "/admin/v1/users", admin, {"org": reseller["id"], "email": "sdk@reseller.test", "name": "SDK", "password": "sdk-password-1", "access_level": "RESELLER_ADMIN"})
_, app_token = call("POST", f"/admin/v1/users/{user['id']}/tokens", admin, {"label": "python sdk"})
_, model = call("POST", "/admin/v1/sim-models", admin, {"description": "SDK model", "form_factor": "NANO"})
sims = [{"iccid": f"8988303{i:012d}", "imsi": f"90143{i:010d}", "production_date": "2019-01-25"} for i in range(SIMS)]
status, batch = call("POST", "/admin/v1/sim-batches", admin, {"bic": BIC, "issuer_org": 1, "model": model["id"], "sims": sims})
assert status == 201, batch

from emnify import EMnify  # noqa: E402  (after the endpoint variable is in place)
from emnify import errors as emnify_errors  # noqa: E402
from emnify.constants import SimSort  # noqa: E402

client = EMnify(app_token["token"])
check("the client starts without a JWT", client.token is None)

# register_sim by BIC: the lazy 401 -> authenticate -> retry flow happens on this first call.
registered = client.sim.register_sim(bic=BIC)
check("lazy 401 -> authenticate -> retry gave a JWT", isinstance(client.token, str) and client.token.count(".") == 2)
check("register_sim returns every SIM of the batch", isinstance(registered, list) and len(registered) == SIMS, len(registered))
check("registered SIMs are Activated", all(s.status.id == 1 for s in registered))
check("registered SIMs belong to the reseller", all(s.dict().get("reseller_org", {}).get("id") == reseller["id"] for s in registered[:5]))

# Listing follows X-Total-Pages across more than one page.
all_sims = list(client.sim.get_sim_list())
check("get_sim_list walks every page", len(all_sims) == SIMS, len(all_sims))
check("listed ids are distinct", len({s.id for s in all_sims}) == SIMS)
no_device = list(client.sim.get_sim_list(without_device=True))
check("without_device lists SIMs without an endpoint", len(no_device) == SIMS, len(no_device))
model_filter = client.sim.get_sim_filter_model(model=model["id"], production_date="2019-01-25")
filtered = list(client.sim.get_sim_list(filter_model=model_filter))
check("filter-model listing", len(filtered) == SIMS, len(filtered))
none = list(client.sim.get_sim_list(filter_model=client.sim.get_sim_filter_model(customer_org=customer["id"])))
check("filter-model listing with no match", len(none) == 0, len(none))
by_iccid = list(client.sim.get_sim_list(sort_enum=SimSort.iccid))
check("sorting by the SDK's enum", [s.iccid for s in by_iccid][:3] == sorted(s.iccid for s in by_iccid)[:3])

sim_id = all_sims[0].id
sim = client.sim.retrieve_sim(sim_id)
check("retrieve_sim", sim.id == sim_id and sim.status.id == 1)
check("suspend_sim answers 204", client.sim.suspend_sim(sim_id) is True)
check("the SIM is Suspended", client.sim.retrieve_sim(sim_id).status.id == 2)
check("activate_sim answers 204", client.sim.activate_sim(sim_id) is True)
check("the SIM is Activated", client.sim.retrieve_sim(sim_id).status.id == 1)
update = client.sim.get_sim_update_model(customer_organisation={"id": customer["id"]})
check("update_sim with an organisation change", client.sim.update_sim(sim_id, update) is True)
check("the SIM has its customer", client.sim.retrieve_sim(sim_id).dict()["customer_org"]["id"] == customer["id"])

try:
    client.sim.register_sim(bic="NO-SUCH-BIC")
    check("an unknown BIC is refused", False)
except emnify_errors.ValidationErrorException as e:
    check("an unknown BIC is refused", "Invalid bic number" in str(e), str(e))

try:
    list(EMnify("sg_not_a_token").sim.get_sim_list())
    check("a wrong application token is refused", False)
except emnify_errors.UnauthorisedException as e:
    check("a wrong application token is refused", "Invalid Application Token" in str(e), str(e))

passed = sum(1 for _, ok in results if ok)
failed = len(results) - passed
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
