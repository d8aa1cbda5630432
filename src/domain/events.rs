//! Event types, sources and severities (emnify ids where one fits, simgate's own from 1000 up).

pub const SIM_ACTIVATION: i32 = 8;
pub const SIM_SUSPENSION: i32 = 9;
pub const SIM_DELETION: i32 = 10;
pub const SIM_FACTORY_TEST: i32 = 45;
pub const SIM_REGISTRATION: i32 = 48;
pub const SIM_RELEASED: i32 = 50;
pub const SIM_ASSIGNED: i32 = 51;
pub const ENDPOINT_ENABLED: i32 = 42;
pub const ENDPOINT_DISABLED: i32 = 43;

pub const SIM_IMPORTED: i32 = 1000;
pub const SIM_MOVED_TO_STORAGE: i32 = 1001;
pub const MVNO_ACCOUNT_CREATED: i32 = 1002;
pub const MVNO_ACCOUNT_UPDATED: i32 = 1003;
pub const MVNO_ACCOUNT_DELETED: i32 = 1004;
pub const MVNO_ACCOUNT_RESTORED: i32 = 1005;
pub const MVNO_ACCOUNT_PURGED: i32 = 1006;
pub const SIM_CHANGED: i32 = 1007;
pub const ENDPOINT_CREATED: i32 = 1008;
pub const ENDPOINT_UPDATED: i32 = 1009;
pub const ENDPOINT_DELETED: i32 = 1010;
pub const CONNECTIVITY_RESET: i32 = 1011;
pub const OPERATOR_BLACKLIST_CHANGED: i32 = 1012;
pub const SMS_SUBMITTED: i32 = 1013;
pub const SMS_STATUS_CHANGED: i32 = 1014;
pub const SMS_RECEIVED: i32 = 1015;
pub const SERVICE_PROFILE_CHANGED: i32 = 1016;
pub const TARIFF_PROFILE_CHANGED: i32 = 1017;
pub const QUOTA_THRESHOLD: i32 = 18;
pub const QUOTA_USED_UP: i32 = 19;
pub const SMS_QUOTA_THRESHOLD: i32 = 20;
pub const SMS_QUOTA_USED_UP: i32 = 21;
pub const DATA_QUOTA_ASSIGNED: i32 = 56;
pub const DATA_QUOTA_DELETED: i32 = 57;
pub const SMS_QUOTA_ASSIGNED: i32 = 58;
pub const SMS_QUOTA_DELETED: i32 = 59;
pub const DATA_QUOTA_EXPIRED: i32 = 60;
pub const SMS_QUOTA_EXPIRED: i32 = 1018;

pub const SOURCE_NETWORK: i16 = 0;
pub const SOURCE_POLICY: i16 = 1;
pub const SOURCE_API: i16 = 2;

pub const SEVERITY_INFO: i16 = 0;
pub const SEVERITY_WARN: i16 = 1;
pub const SEVERITY_CRITICAL: i16 = 2;

/// The description of an event type, as emnify names them.
pub fn type_description(type_id: i32) -> &'static str {
    match type_id {
        SIM_ACTIVATION => "SIM activation",
        SIM_SUSPENSION => "SIM suspension",
        SIM_DELETION => "SIM deletion",
        SIM_FACTORY_TEST => "SIM factory test",
        SIM_REGISTRATION => "SIM registration",
        SIM_RELEASED => "SIM released",
        SIM_ASSIGNED => "SIM assigned",
        SIM_IMPORTED => "SIM imported",
        SIM_MOVED_TO_STORAGE => "SIM moved to storage",
        MVNO_ACCOUNT_CREATED => "MVNO account created",
        MVNO_ACCOUNT_UPDATED => "MVNO account updated",
        MVNO_ACCOUNT_DELETED => "MVNO account deleted",
        MVNO_ACCOUNT_RESTORED => "MVNO account restored",
        MVNO_ACCOUNT_PURGED => "MVNO account purged",
        SIM_CHANGED => "SIM changed",
        ENDPOINT_ENABLED => "Endpoint enabled",
        ENDPOINT_DISABLED => "Endpoint disabled",
        ENDPOINT_CREATED => "Endpoint created",
        ENDPOINT_UPDATED => "Endpoint updated",
        ENDPOINT_DELETED => "Endpoint deleted",
        CONNECTIVITY_RESET => "Connectivity reset requested",
        OPERATOR_BLACKLIST_CHANGED => "Operator blacklist changed",
        SMS_SUBMITTED => "SMS submitted",
        SMS_STATUS_CHANGED => "SMS status changed",
        SMS_RECEIVED => "SMS received",
        SERVICE_PROFILE_CHANGED => "Service profile changed",
        TARIFF_PROFILE_CHANGED => "Tariff profile changed",
        QUOTA_THRESHOLD => "Quota threshold reached",
        QUOTA_USED_UP => "Quota used up",
        SMS_QUOTA_THRESHOLD => "SMS quota threshold reached",
        SMS_QUOTA_USED_UP => "SMS quota used up",
        DATA_QUOTA_ASSIGNED => "Data quota assigned",
        DATA_QUOTA_DELETED => "Data quota deleted",
        SMS_QUOTA_ASSIGNED => "SMS quota assigned",
        SMS_QUOTA_DELETED => "SMS quota deleted",
        DATA_QUOTA_EXPIRED => "Data quota expired",
        SMS_QUOTA_EXPIRED => "SMS quota expired",
        // Network events (ingested): the GSM/GPRS procedures spec §4 folds into connectivity.
        1 => "Update location",
        2 => "Update GPRS location",
        3 => "Create PDP context",
        5 => "Delete PDP context",
        15 => "Purge location",
        16 => "Purge GPRS location",
        49 => "Cancel location",
        _ => "Network event",
    }
}

/// Every event type simgate writes or folds, by id (`GET /api/v1/event/type`).
pub const KNOWN_TYPES: [i32; 44] = [
    1,
    2,
    3,
    5,
    SIM_ACTIVATION,
    SIM_SUSPENSION,
    SIM_DELETION,
    15,
    16,
    QUOTA_THRESHOLD,
    QUOTA_USED_UP,
    SMS_QUOTA_THRESHOLD,
    SMS_QUOTA_USED_UP,
    ENDPOINT_ENABLED,
    ENDPOINT_DISABLED,
    SIM_FACTORY_TEST,
    SIM_REGISTRATION,
    49,
    SIM_RELEASED,
    SIM_ASSIGNED,
    DATA_QUOTA_ASSIGNED,
    DATA_QUOTA_DELETED,
    SMS_QUOTA_ASSIGNED,
    SMS_QUOTA_DELETED,
    DATA_QUOTA_EXPIRED,
    SIM_IMPORTED,
    SIM_MOVED_TO_STORAGE,
    MVNO_ACCOUNT_CREATED,
    MVNO_ACCOUNT_UPDATED,
    MVNO_ACCOUNT_DELETED,
    MVNO_ACCOUNT_RESTORED,
    MVNO_ACCOUNT_PURGED,
    SIM_CHANGED,
    ENDPOINT_CREATED,
    ENDPOINT_UPDATED,
    ENDPOINT_DELETED,
    CONNECTIVITY_RESET,
    OPERATOR_BLACKLIST_CHANGED,
    SMS_SUBMITTED,
    SMS_STATUS_CHANGED,
    SMS_RECEIVED,
    SERVICE_PROFILE_CHANGED,
    TARIFF_PROFILE_CHANGED,
    SMS_QUOTA_EXPIRED,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types_are_listed_once_in_order_and_named() {
        assert!(KNOWN_TYPES.windows(2).all(|w| w[0] < w[1]));
        for t in KNOWN_TYPES {
            assert_ne!(type_description(t), "Network event", "{t}");
        }
        assert_eq!(type_description(8), "SIM activation");
        assert_eq!(type_description(999), "Network event");
    }
}
