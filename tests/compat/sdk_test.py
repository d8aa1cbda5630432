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

# Devices (endpoints): create with a SIM, read, list with the SDK's filter and sort, update, disable and
# enable with the SIM, replace the SIM, release it, delete.
from emnify.constants import DeviceSort  # noqa: E402

devices = client.devices
device_sim, spare_sim = all_sims[1].id, all_sims[2].id
new_device = devices.device_model(
    name="sdk device", tags="compat",
    service_profile=devices.service_profile_model(id=1), tariff_profile=devices.tariff_profile_model(id=1),
    status=devices.status_model(id=0, description="Enabled"), sim={"id": device_sim},
)
device_id = devices.create_device(device=new_device)
check("create_device returns the new id from Location", isinstance(device_id, int) and device_id > 0, device_id)
dev = devices.retrieve_device(device_id)
check("retrieve_device", dev.id == device_id and dev.name == "sdk device" and dev.sim.id == device_sim, dev)
check("the device's profiles", dev.service_profile.id == 1 and dev.tariff_profile.id == 1)
check("the device's SIM is Activated", dev.sim.status.id == 1, dev.sim)
listed = list(devices.get_devices_list())
check("get_devices_list", [d.id for d in listed] == [device_id], [d.id for d in listed])
flt = devices.get_device_filter_model(status=0, sim_status=1, name="sdk")
by_filter = list(devices.get_devices_list(filter_model=flt, sort_enum=DeviceSort.NAME))
check("get_devices_list with the SDK's filter and sort", [d.id for d in by_filter] == [device_id], [d.id for d in by_filter])
none = list(devices.get_devices_list(filter_model=devices.get_device_filter_model(status=1)))
check("a filter that matches nothing", none == [], none)
devices.update_device(device_id=device_id, device=devices.device_update_model(name="sdk device 2", tags="renamed"))
check("update_device", devices.retrieve_device(device_id).name == "sdk device 2")
devices.disable_device(device_id)
check("disable_device", devices.retrieve_device(device_id).status.id == 1)
check("change_status enable", devices.change_status(device_id, enable=True) is True)
dev = devices.retrieve_device(device_id)
check("enabled with its SIM Activated", dev.status.id == 0 and dev.sim.status.id == 1, dev)
check("change_status disable", devices.change_status(device_id, disable=True) is True)
dev = devices.retrieve_device(device_id)
check("disabled with its SIM Suspended", dev.status.id == 1 and dev.sim.status.id == 2, dev)
devices.assign_sim(device_id, spare_sim)
dev = devices.retrieve_device(device_id)
check("assign_sim replaces the SIM", dev.sim.id == spare_sim, dev.sim)
check("the replaced SIM is free again", client.sim.retrieve_sim(device_sim).dict().get("endpoint") is None)
free = list(client.sim.get_sim_list(without_device=True))
check("without_device leaves the device's SIM out", spare_sim not in {s.id for s in free} and device_sim in {s.id for s in free})
# The SDK sends q=model:<id>endpoint:null here (no comma).
free_of_model = list(client.sim.get_sim_list(without_device=True, filter_model=client.sim.get_sim_filter_model(model=model["id"])))
check("without_device with a filter model", {s.id for s in free_of_model} == {s.id for s in free}, len(free_of_model))
by_customer = list(client.sim.get_sim_list(sort_enum=SimSort.customer_org))
check("SimSort.customer_org (sent as CUSTOMER_PRG)", len(by_customer) == SIMS, len(by_customer))
devices.release_sim(device_id)
dev = devices.retrieve_device(device_id)
check("release_sim", dev.sim is None and dev.status.id == 1, dev)
check("a released SIM is Suspended", client.sim.retrieve_sim(spare_sim).status.id == 2)
# assign_sim needs a SIM already in the device (the SDK's change_status raises otherwise): an empty
# device takes one through update_device.
devices.update_device(device_id=device_id, device=devices.device_update_model(sim={"id": spare_sim}))
check("update_device puts a SIM in", devices.retrieve_device(device_id).sim.id == spare_sim)
devices.assign_sim(device_id, device_sim, enable=True)
dev = devices.retrieve_device(device_id)
check("assign_sim with enable", dev.sim.id == device_sim and dev.sim.status.id == 1 and dev.status.id == 0, dev)
# The device's events and connectivity (OFFLINE: the network has reported nothing yet); resets are
# recorded as its events.
device_events = list(devices.get_device_events_list(device_id))
check("get_device_events_list", [e.event_type.id for e in device_events][-1:] == [1008], [e.event_type.id for e in device_events])
conn = devices.get_device_connectivity_status(device_id)
check("get_device_connectivity_status", conn.status.description == "OFFLINE" and conn.location is None, conn)
check("reset_connectivity_network", devices.reset_connectivity_network(device_id) is True)
check("reset_connectivity_data", devices.reset_connectivity_data(device_id) is True)
check("resets are the device's events", [e.event_type.id for e in devices.get_device_events_list(device_id)][:2] == [1011, 1011])

# SMS to the device.
sent = devices.send_sms(device=device_id, sms=devices.sms_create_model(payload="hello from the SDK", source_address="simgate"))
check("send_sms answers 201", sent is True, sent)
sms_list = list(devices.get_device_sms_list(device=device_id))
check("get_device_sms_list", [m.payload for m in sms_list] == ["hello from the SDK"] and sms_list[0].status["id"] == 1, sms_list)

# Operators and the device's blacklist.
operators = list(client.operator.get_operators())
check("get_operators", len(operators) > 1000 and all(isinstance(o.id, int) for o in operators), len(operators))
tdc = next((o for o in operators if o.name == "TDC" and o.country and o.country.iso_code == "dk"), None)
check("an operator's country code is an integer", tdc is not None and tdc.country.country_code == 45, tdc)
check("an operator's MNCs", [m.mnc for m in tdc.mnc] == ["01", "10"], tdc.mnc)
check("add_device_blacklist_operator", devices.add_device_blacklist_operator(device_id, tdc.id) is True)
listed = list(devices.get_device_operator_blacklist(device_id))
check("get_device_operator_blacklist", [o.id for o in listed] == [tdc.id], listed)
try:
    devices.add_device_blacklist_operator(device_id, tdc.id)
    check("a listed operator is refused", False)
except emnify_errors.ValidationErrorException as e:
    check("a listed operator is refused", "already blacklisted" in str(e), str(e))
check("delete_device_blacklist_operator", devices.delete_device_blacklist_operator(device_id, tdc.id) is True)
try:
    devices.delete_device_blacklist_operator(device_id, tdc.id)
    check("an unlisted operator is refused", False)
except emnify_errors.ValidationErrorException as e:
    check("an unlisted operator is refused", "not blacklisted" in str(e), str(e))
check("the blacklist is empty again", list(devices.get_device_operator_blacklist(device_id)) == [])

check("delete_device releases and deletes", devices.delete_device(device_id) is True)
check("the device is gone", list(devices.get_devices_list()) == [])
try:
    devices.retrieve_device(device_id)
    check("a deleted device is not found", False)
except emnify_errors.EMnifyBaseException as e:
    check("a deleted device is not found", "not found" in str(e).lower(), str(e))

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
