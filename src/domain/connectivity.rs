//! An endpoint's connectivity, folded from the network events of its SIM since it went into the
//! endpoint (spec/emnify-endpoints.md §4). The payloads (a location, a PDP context) are the caller's
//! types: the rule is only which event sets, keeps or clears what.

/// What a network event does to the connectivity.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal<L, P> {
    /// 1 (location update: SMS) and 2 (GPRS location update): attached, at `location`.
    Attach { gprs: bool, location: L },
    /// 3: a PDP context, online.
    PdpCreate(Option<P>),
    /// 5: the PDP context ends; still attached.
    PdpDelete,
    /// 15, 16, 49: purged or cancelled; offline.
    Detach,
}

/// The event types that move the connectivity.
pub const TYPES: [i32; 7] = [1, 2, 3, 5, 15, 16, 49];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Offline,
    Attached,
    Online,
    /// Data denied by a quota (spec §7): overrides what the network says.
    Blocked,
}

impl State {
    pub fn description(self) -> &'static str {
        match self {
            State::Offline => "OFFLINE",
            State::Attached => "ATTACHED",
            State::Online => "ONLINE",
            State::Blocked => "BLOCKED",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Connectivity<L, P> {
    pub state: State,
    pub location: Option<L>,
    pub pdp_context: Option<P>,
    /// `SMS`, `GPRS`, in the order they came up.
    pub services: Vec<&'static str>,
}

impl<L, P> Connectivity<L, P> {
    /// As quotas leave it: denied data blocks it (no data session, no GPRS); denied SMS takes `SMS`
    /// out of its services.
    pub fn denied(mut self, data: bool, sms: bool) -> Self {
        if data {
            self.state = State::Blocked;
            self.pdp_context = None;
            self.services.retain(|s| *s != "GPRS");
        }
        if sms {
            self.services.retain(|s| *s != "SMS");
        }
        self
    }
}

/// The signal of an event type, given how to read its location and PDP context.
pub fn signal<L, P>(
    type_id: i32,
    location: impl FnOnce() -> L,
    pdp: impl FnOnce() -> Option<P>,
) -> Option<Signal<L, P>> {
    match type_id {
        1 | 2 => Some(Signal::Attach {
            gprs: type_id == 2,
            location: location(),
        }),
        3 => Some(Signal::PdpCreate(pdp())),
        5 => Some(Signal::PdpDelete),
        15 | 16 | 49 => Some(Signal::Detach),
        _ => None,
    }
}

/// The connectivity after these signals, oldest first, from OFFLINE.
pub fn fold<L, P>(signals: impl IntoIterator<Item = Signal<L, P>>) -> Connectivity<L, P> {
    let mut c = Connectivity {
        state: State::Offline,
        location: None,
        pdp_context: None,
        services: Vec::new(),
    };
    let add = |services: &mut Vec<&'static str>, s: &'static str| {
        if !services.contains(&s) {
            services.push(s);
        }
    };
    for signal in signals {
        match signal {
            Signal::Attach { gprs, location } => {
                if c.state != State::Online {
                    c.state = State::Attached;
                }
                c.location = Some(location);
                add(&mut c.services, if gprs { "GPRS" } else { "SMS" });
            }
            Signal::PdpCreate(pdp) => {
                c.state = State::Online;
                c.pdp_context = pdp;
                add(&mut c.services, "GPRS");
            }
            Signal::PdpDelete => {
                c.state = State::Attached;
                c.pdp_context = None;
            }
            Signal::Detach => {
                c.state = State::Offline;
                c.location = None;
                c.pdp_context = None;
                c.services.clear();
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(types: &[i32]) -> Connectivity<&'static str, &'static str> {
        fold(
            types
                .iter()
                .filter_map(|t| signal(*t, || "here", || Some("apn"))),
        )
    }

    #[test]
    fn connectivity_follows_the_network_events() {
        let none = run(&[]);
        assert_eq!(
            (none.state, none.location, none.services.len()),
            (State::Offline, None, 0)
        );
        let attached = run(&[1]);
        assert_eq!(attached.state, State::Attached);
        assert_eq!(
            (attached.location, attached.services),
            (Some("here"), vec!["SMS"])
        );
        let online = run(&[1, 2, 3]);
        assert_eq!(online.state, State::Online);
        assert_eq!(online.pdp_context, Some("apn"));
        assert_eq!(online.services, ["SMS", "GPRS"]);
        // A location update keeps a session online; its end keeps the attachment and services.
        assert_eq!(run(&[3, 1]).state, State::Online);
        let ended = run(&[1, 3, 5]);
        assert_eq!((ended.state, ended.pdp_context), (State::Attached, None));
        assert_eq!(ended.services, ["SMS", "GPRS"]);
        for detach in [15, 16, 49] {
            let off = run(&[1, 3, detach]);
            assert_eq!(off, run(&[]));
        }
        // Other types change nothing.
        assert_eq!(run(&[1, 8, 42]), run(&[1]));
    }

    #[test]
    fn quotas_block_data_and_take_sms_away() {
        let online: Connectivity<&str, &str> = fold([
            Signal::Attach {
                gprs: false,
                location: "dk",
            },
            Signal::Attach {
                gprs: true,
                location: "dk",
            },
            Signal::PdpCreate(Some("em")),
        ]);
        assert_eq!(online.services, ["SMS", "GPRS"]);
        let same = online.clone().denied(false, false);
        assert_eq!(same, online);
        let blocked = online.clone().denied(true, false);
        assert_eq!(blocked.state, State::Blocked);
        assert_eq!((blocked.pdp_context, blocked.services), (None, vec!["SMS"]));
        let no_sms = online.denied(false, true);
        assert_eq!(
            (no_sms.state, no_sms.services),
            (State::Online, vec!["GPRS"])
        );
    }
}
