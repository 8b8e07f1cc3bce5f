//! Who signed in: the person linked to the Okta user, who must be active;
//! just-in-time requesters when the config allows them.

mod common;

use common::*;
use fake_okta::UserInfo;
use plugin_core::{PersonStatus, SyncTarget};
use plugin_sso::{SsoError, SsoSettings};

fn world() -> (World, UserInfo) {
    let mut w = World::new();
    w.configure_public();
    let user = w.active(0);
    (w, user)
}

fn jit(on: bool) -> SsoSettings {
    SsoSettings {
        jit_requesters: on,
        ..settings(PUBLIC_ID, None, None)
    }
}

#[test]
fn an_unlinked_person_is_refused() {
    let (mut w, user) = world();
    let err = w.sign_in(SyncTarget::Requesters, &user.login).unwrap_err();
    assert_eq!(
        err,
        SsoError::NotLinked(
            "This Okta account is not linked to an Infraon requester. Ask an administrator to sync it from Okta.".into()
        )
    );
    assert!(matches!(
        w.sign_in(SyncTarget::Users, &user.login),
        Err(SsoError::NotLinked(m)) if m.contains("Infraon user")
    ));
    // Linked as a user does not make a requester.
    w.link(
        &user,
        SyncTarget::Users,
        &["Technician"],
        PersonStatus::Active,
    );
    assert!(matches!(
        w.sign_in(SyncTarget::Requesters, &user.login),
        Err(SsoError::NotLinked(_))
    ));
    w.sign_in(SyncTarget::Users, &user.login)
        .expect("as a user");
    assert_eq!(w.directory.upserts, 1, "nothing created");
}

#[test]
fn a_deactivated_or_suspended_person_is_refused() {
    let (mut w, user) = world();
    w.link(
        &user,
        SyncTarget::Users,
        &["Technician"],
        PersonStatus::Deactivated,
    );
    let err = w.sign_in(SyncTarget::Users, &user.login).unwrap_err();
    let SsoError::Deactivated(m) = &err else {
        panic!("{err:?}")
    };
    assert!(m.contains("deactivated"), "{m}");

    w.link(
        &user,
        SyncTarget::Users,
        &["Technician"],
        PersonStatus::Suspended,
    );
    assert!(matches!(
        w.sign_in(SyncTarget::Users, &user.login),
        Err(SsoError::Deactivated(m)) if m.contains("suspended")
    ));

    // Pending people have just been provisioned: Okta vouches for them.
    w.link(
        &user,
        SyncTarget::Users,
        &["Technician"],
        PersonStatus::Pending,
    );
    w.sign_in(SyncTarget::Users, &user.login)
        .expect("pending may");
}

#[test]
fn the_link_must_come_from_the_same_okta_org() {
    let (mut w, user) = world();
    // Another config of the same org linked the requester: fine.
    w.install("Acme Requesters", SyncTarget::Requesters);
    w.link(
        &user,
        SyncTarget::Requesters,
        &["Requester"],
        PersonStatus::Active,
    );
    w.directory
        .people
        .values_mut()
        .for_each(|p| p.config = "Acme Requesters".into());
    w.sign_in(SyncTarget::Requesters, &user.login)
        .expect("same org");

    // A config of another org (or one since uninstalled): the same id
    // there is someone else.
    w.directory
        .people
        .values_mut()
        .for_each(|p| p.config = "Globex".into());
    assert!(matches!(
        w.sign_in(SyncTarget::Requesters, &user.login),
        Err(SsoError::NotLinked(m)) if m.contains("this Okta org")
    ));
}

#[test]
fn just_in_time_requesters_when_enabled() {
    let (mut w, user) = world();
    w.configure(jit(true)).unwrap();
    // Only requesters are created just in time, never users.
    assert!(matches!(
        w.sign_in(SyncTarget::Users, &user.login),
        Err(SsoError::NotLinked(_))
    ));
    let who = w
        .sign_in(SyncTarget::Requesters, &user.login)
        .expect("created");
    assert_eq!(who.external_id, user.id);
    assert_eq!(who.email, user.login);
    assert_eq!(who.login, user.login);
    assert_eq!(who.roles, ["Requester"]);
    assert!(!who.display_name.is_empty());
    let p = w.directory.get(SyncTarget::Requesters, &user.id).unwrap();
    assert_eq!(p.config, CONFIG);
    assert_eq!(p.status, PersonStatus::Active);
    assert!(w.log.text().contains("requester created"));

    // The second time the requester exists.
    w.sign_in(SyncTarget::Requesters, &user.login)
        .expect("again");
    assert_eq!(w.directory.upserts, 1);

    // Off by default: no creation.
    let other = w.active(1);
    w.configure(jit(false)).unwrap();
    assert!(matches!(
        w.sign_in(SyncTarget::Requesters, &other.login),
        Err(SsoError::NotLinked(_))
    ));
}

#[test]
fn just_in_time_never_takes_over_an_existing_requester() {
    let (mut w, user) = world();
    w.configure(jit(true)).unwrap();
    // An unlinked requester (another Okta id) already owns this email.
    let mut squatter = w.active(1);
    squatter.login = user.login.clone();
    w.link(
        &squatter,
        SyncTarget::Requesters,
        &["Requester"],
        PersonStatus::Active,
    );
    let err = w.sign_in(SyncTarget::Requesters, &user.login).unwrap_err();
    assert!(
        matches!(&err, SsoError::NotLinked(m) if m.contains("already exists")),
        "{err:?}"
    );
}
