//! Builds a deterministic org from an [`OrgSpec`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rand::{Rng, SeedableRng, seq::index};
use rand_chacha::ChaCha8Rng;

use crate::OrgSpec;
use crate::clock::{Clock, Millis};
use crate::org::{GroupRec, GroupType, Id, Org, Provider, UserRec, UserStatus, id_str, new_id};
use crate::people::{DEPARTMENTS, GenProfile, ProfileDraw, SIZES};

const DAY: Millis = 86_400_000;
/// 2020-01-01T00:00:00Z: seeded history starts here.
const START: Millis = 1_577_836_800_000;
/// 2025-12-31T00:00:00Z: seeded history ends here, so every mutation a test
/// makes (wall clock) is newer than all seeded data.
const END: Millis = 1_767_139_200_000;

/// Mostly ACTIVE, with every other status represented, like a real org.
const WEIGHTS: [(UserStatus, u32); 8] = [
    (UserStatus::Staged, 3),
    (UserStatus::Provisioned, 4),
    (UserStatus::Active, 74),
    (UserStatus::Recovery, 2),
    (UserStatus::PasswordExpired, 3),
    (UserStatus::LockedOut, 2),
    (UserStatus::Suspended, 4),
    (UserStatus::Deprovisioned, 8),
];

fn pick_status(rng: &mut ChaCha8Rng) -> UserStatus {
    let total: u32 = WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (s, w) in WEIGHTS {
        if roll < w {
            return s;
        }
        roll -= w;
    }
    UserStatus::Active
}

fn between(rng: &mut ChaCha8Rng, lo: Millis, hi: Millis) -> Millis {
    // Whole seconds, as Okta's timestamps always end in `.000Z`.
    let t = if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    };
    t - t.rem_euclid(1000)
}

fn draw(rng: &mut ChaCha8Rng) -> ProfileDraw {
    let [first, last, dept, title, office] = SIZES.map(|n| rng.random_range(0..n));
    ProfileDraw {
        first,
        last,
        dept,
        title,
        office,
        mgr_first: rng.random_range(0..SIZES[0]),
        mgr_last: rng.random_range(0..SIZES[1]),
        phone: if rng.random_bool(0.8) {
            rng.random_range(1..10_000_000)
        } else {
            0
        },
        hire_day: rng.random_range(0..5800),
        contractor: rng.random_bool(0.15),
        skills: rng.random(),
    }
}

fn user(rng: &mut ChaCha8Rng, status: UserStatus, seeded: GenProfile) -> UserRec {
    let created = between(rng, START, END - 30 * DAY);
    let activated = status
        .was_activated()
        .then(|| between(rng, created + 60_000, created + 7 * DAY));
    let status_changed = match status {
        UserStatus::Staged => None,
        UserStatus::Provisioned | UserStatus::Active => activated,
        _ => activated.map(|a| between(rng, a + 1000, END - DAY)),
    };
    let password_changed = status
        .has_password()
        .then(|| between(rng, activated.unwrap_or(created) + 1000, created + 8 * DAY));
    let last_login = (status.has_password() && rng.random_bool(0.85))
        .then(|| between(rng, password_changed.unwrap_or(created), END));
    let floor = [Some(created), status_changed, password_changed]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(created);
    let last_updated = between(rng, floor, (floor + 60 * DAY).min(END)).max(floor);
    UserRec {
        status,
        provider: if rng.random_bool(0.1) {
            Provider::ActiveDirectory
        } else {
            Provider::Okta
        },
        created,
        activated,
        status_changed,
        last_login,
        last_updated,
        password_changed,
        seeded: Some(seeded),
        extra: None,
    }
}

fn group(rng: &mut ChaCha8Rng, j: usize) -> GroupRec {
    let dept = DEPARTMENTS[j % DEPARTMENTS.len()];
    let tier = j / DEPARTMENTS.len();
    let kind = if j % 10 == 9 {
        GroupType::App
    } else {
        GroupType::Okta
    };
    let name = match (kind, tier) {
        (GroupType::App, 0) => format!("AD {dept}"),
        (GroupType::App, t) => format!("AD {dept} {t}"),
        (GroupType::Okta, 0) => dept.to_owned(),
        (GroupType::Okta | GroupType::BuiltIn, t) => format!("{dept} Team {t}"),
    };
    let description = match kind {
        GroupType::App => format!("{name}, imported from Active Directory"),
        GroupType::Okta | GroupType::BuiltIn => format!("All members of {name}"),
    };
    let created = between(rng, START, END - 60 * DAY);
    let last_updated = between(rng, created, END - DAY);
    GroupRec {
        kind,
        name,
        description,
        created,
        last_updated,
        last_membership_updated: between(rng, last_updated, END),
        members: BTreeSet::new(),
    }
}

pub(crate) fn build(spec: &OrgSpec) -> Org {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let suffix = [
        b'0' + rng.random_range(0..10u8),
        b'a' + rng.random_range(0..26u8),
        b'0' + rng.random_range(0..10u8),
    ];
    let type_id = id_str(&new_id(&mut rng, b"oty", &suffix)).to_owned();
    let schema_id = id_str(&new_id(&mut rng, b"osc", &suffix)).to_owned();

    let mut users = BTreeMap::new();
    let mut order: Vec<Id> = Vec::with_capacity(spec.users);
    let mut dups: HashMap<(usize, usize), u32> = HashMap::new();
    for i in 0..spec.users {
        let status = if spec.users >= 16 && i < UserStatus::ALL.len() {
            UserStatus::ALL[i]
        } else {
            pick_status(&mut rng)
        };
        let d = draw(&mut rng);
        let dup = dups.entry((d.first, d.last)).or_default();
        let seeded = GenProfile::from_draw(d, *dup, i as u32 + 1);
        *dup += 1;
        let rec = user(&mut rng, status, seeded);
        let id = loop {
            let id = new_id(&mut rng, b"00u", &suffix);
            if !users.contains_key(&id) {
                break id;
            }
        };
        users.insert(id, rec);
        order.push(id);
    }

    let mut groups = BTreeMap::new();
    let mut group_ids = Vec::with_capacity(spec.groups);
    for j in 0..spec.groups {
        let rec = group(&mut rng, j);
        let id = loop {
            let id = new_id(&mut rng, b"00g", &suffix);
            if !groups.contains_key(&id) {
                break id;
            }
        };
        groups.insert(id, rec);
        group_ids.push(id);
    }

    let m = spec.memberships_per_user;
    if spec.groups > 0 && m > 0 {
        for uid in &order {
            let k = rng.random_range(m - 1..=m + 1).min(spec.groups);
            for gi in index::sample(&mut rng, spec.groups, k) {
                if let Some(g) = groups.get_mut(&group_ids[gi]) {
                    g.members.insert(*uid);
                }
            }
        }
    }

    // Everyone, with every user, as in every Okta org; its id comes from
    // its own stream so that adding it changed no seeded user or group.
    let mut own = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x4576_6572_796f_6e65);
    let everyone = loop {
        let id = new_id(&mut own, b"00g", &suffix);
        if !groups.contains_key(&id) {
            break id;
        }
    };
    groups.insert(
        everyone,
        GroupRec {
            kind: GroupType::BuiltIn,
            name: "Everyone".into(),
            description: "All users in your organization".into(),
            created: START - 30 * DAY,
            last_updated: START - 30 * DAY,
            last_membership_updated: END,
            members: order.iter().copied().collect(),
        },
    );

    Org {
        users,
        groups,
        clock: Clock::new(END),
        rng,
        suffix,
        type_id,
        schema_id,
        created: START - 30 * DAY,
        custom_attributes: crate::render::default_custom_attributes(),
    }
}

/// The org's own id (`00o...`), drawn from its own stream so adding it did
/// not change any seeded user or group.
pub(crate) fn org_id(seed: u64, org: &Org) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6f72_6769_6400_0000);
    id_str(&new_id(&mut rng, b"00o", &org.suffix)).to_owned()
}
