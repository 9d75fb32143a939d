//! Managing users and their types (docs/rules.md#users).

use serde::Serialize;
use serde_json::json;

use super::access::{check_guest, effective};
use super::import::fields;
use super::invite::seats;
use super::{Target, Usher, parse_one};
use crate::domain::{Permission, Timestamp, UserStatus, UserType};
use crate::error::{Clash, Error, Result};
use crate::store::{Account, Holder, Invitation, InvitationFilter, NewAudit, Tx, User, UserFields};

/// A user with the invitations sent to their address.
#[derive(Debug, Clone, Serialize)]
pub struct UserDetail {
    pub user: User,
    pub invitations: Vec<Invitation>,
    /// Roles and single permissions, per scope.
    pub grants: Vec<crate::store::Grant>,
    /// Whether they may log in to mail, and why not (docs/mailserver.md).
    pub mail: Option<crate::store::MailLogin>,
}

impl Usher {
    pub(super) async fn find_user(
        &self,
        tx: &mut Tx,
        account: &Account,
        target: &Target,
    ) -> Result<User> {
        let found = match target {
            Target::Id(id) => tx.user_by_id(account.id, *id).await?,
            Target::Email(e) => {
                tx.user_by_email(account.id, parse_one(e)?.canonical())
                    .await?
            }
        };
        found.ok_or_else(|| Error::NotFound(format!("user {target}")))
    }

    pub async fn user_detail(&self, target: &Target) -> Result<UserDetail> {
        let now = self.clock.now();
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let user = self.find_user(&mut tx, &account, target).await?;
        let invitations = tx
            .list_invitations(account.id, &InvitationFilter::default(), now)
            .await?
            .into_iter()
            .filter(|i| i.email == user.email)
            .collect();
        let grants = tx.grants_of(crate::store::Holder::User(user.id)).await?;
        let mail = tx.mail_login(user.id).await?;
        Ok(UserDetail {
            user,
            invitations,
            grants,
            mail,
        })
    }

    /// Professional or guest. Becoming professional takes a licence if the user is active.
    pub async fn set_user_type(&self, target: &Target, user_type: UserType) -> Result<User> {
        one(self
            .set_users_type(std::slice::from_ref(target), user_type)
            .await?)
    }

    /// Several users made professional or guest in one transaction: all or none.
    pub async fn set_users_type(
        &self,
        targets: &[Target],
        user_type: UserType,
    ) -> Result<Vec<User>> {
        self.change_users(targets, "user.set_type", |user| {
            if user.user_type == user_type {
                return Err(Error::conflict(
                    Clash::State,
                    format!("{} is already {user_type}", user.email_display),
                ));
            }
            let takes_seat =
                user_type == UserType::Professional && user.status == UserStatus::Active;
            Ok((Change::Type(user_type), takes_seat))
        })
        .await
    }

    /// A suspended user keeps everything but cannot use the platform, and frees a licence.
    pub async fn suspend_user(&self, target: &Target) -> Result<User> {
        one(self.suspend_users(std::slice::from_ref(target)).await?)
    }

    /// Several users suspended in one transaction: all or none.
    pub async fn suspend_users(&self, targets: &[Target]) -> Result<Vec<User>> {
        self.change_users(targets, "user.suspend", |user| {
            if user.status == UserStatus::Suspended {
                return Err(Error::conflict(
                    Clash::State,
                    format!("{} is already suspended", user.email_display),
                ));
            }
            Ok((Change::Status(UserStatus::Suspended), false))
        })
        .await
    }

    pub async fn reactivate_user(&self, target: &Target) -> Result<User> {
        one(self.reactivate_users(std::slice::from_ref(target)).await?)
    }

    /// Several users reactivated in one transaction: all or none (licences included).
    pub async fn reactivate_users(&self, targets: &[Target]) -> Result<Vec<User>> {
        self.change_users(targets, "user.reactivate", |user| {
            if user.status == UserStatus::Active {
                return Err(Error::conflict(
                    Clash::State,
                    format!("{} is already active", user.email_display),
                ));
            }
            Ok((
                Change::Status(UserStatus::Active),
                user.user_type == UserType::Professional,
            ))
        })
        .await
    }

    /// Removes the user from the account. The audit log keeps who they were.
    pub async fn remove_user(&self, target: &Target) -> Result<User> {
        one(self.remove_users(std::slice::from_ref(target)).await?)
    }

    /// Several users removed in one transaction: all or none.
    pub async fn remove_users(&self, targets: &[Target]) -> Result<Vec<User>> {
        self.change_users(targets, "user.remove", |_| Ok((Change::Remove, false)))
            .await
    }

    /// Changes users one after another inside one transaction, so a refusal of any (a
    /// licence, the last Administrator) leaves them all as they were.
    async fn change_users(
        &self,
        targets: &[Target],
        action: &str,
        decide: impl Fn(&User) -> Result<(Change, bool)>,
    ) -> Result<Vec<User>> {
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ManageUsers)
            .await?;
        tx.lock_account(account.id).await?;
        let mut changed = Vec::with_capacity(targets.len());
        for target in targets {
            changed.push(
                self.change_user(&mut tx, &account, target, action, &decide)
                    .await?,
            );
        }
        tx.commit().await?;
        let logins: Vec<String> = changed.iter().map(|u| u.email.clone()).collect();
        self.after_change(action, &logins).await;
        Ok(changed)
    }

    /// One user change: find, decide (and check a licence if it takes one), write, audit.
    async fn change_user(
        &self,
        tx: &mut Tx,
        account: &Account,
        target: &Target,
        action: &str,
        decide: &impl Fn(&User) -> Result<(Change, bool)>,
    ) -> Result<User> {
        let now: Timestamp = self.clock.now();
        let user = self.find_user(tx, account, target).await?;
        let (change, takes_seat) = decide(&user)?;
        match change {
            // A guest cannot keep what only a professional may hold (docs/rules.md#users).
            Change::Type(UserType::Guest) => {
                let held = effective(tx, Holder::User(user.id), None).await?;
                let who = format!(
                    "{} cannot become a guest until what they hold is revoked",
                    user.email_display
                );
                check_guest(&who, UserType::Guest, held)?;
            }
            Change::Status(UserStatus::Suspended) | Change::Remove => {
                self.keep_an_administrator(tx, account, user.id).await?;
            }
            _ => {}
        }
        if takes_seat {
            seats(tx, account, now).await?.check(1)?;
        }
        let details = match change {
            Change::Type(t) => {
                tx.set_user_fields(
                    user.id,
                    &UserFields {
                        user_type: t,
                        ..fields(&user)
                    },
                    now,
                )
                .await?;
                json!({"from": user.user_type, "to": t})
            }
            Change::Status(s) => {
                tx.set_user_fields(
                    user.id,
                    &UserFields {
                        status: s,
                        ..fields(&user)
                    },
                    now,
                )
                .await?;
                json!({"from": user.status, "to": s})
            }
            Change::Remove => {
                tx.delete_user(user.id).await?;
                json!({"user_type": user.user_type, "status": user.status,
                       "first_name": user.first_name, "last_name": user.last_name,
                       "unique_ref": user.unique_ref})
            }
        };
        tx.append_audit(&NewAudit {
            at: now,
            actor: &self.actor,
            action,
            target: &format!("user:{} {}", user.id, user.email),
            details,
        })
        .await?;
        match change {
            Change::Remove => Ok(user),
            _ => tx
                .user_by_id(account.id, user.id)
                .await?
                .ok_or_else(|| Error::NotFound(format!("user {target}"))),
        }
    }
}

/// The one user a one-target change returns.
fn one(mut users: Vec<User>) -> Result<User> {
    users
        .pop()
        .ok_or_else(|| Error::NotFound("user".to_owned()))
}

impl Usher {
    /// Adds `count` made-up guest users on `domain` ("user0000001@domain", ...), in bulk:
    /// for trying the console and for benchmarks at a realistic size. Guests need no
    /// licence. Audited as one entry.
    pub async fn generate_fake_users(&self, count: u64, domain: &str) -> Result<u64> {
        const FIRST: [&str; 8] = ["Ann", "Bob", "Carla", "Dev", "Eve", "Femi", "Gus", "Hana"];
        const LAST: [&str; 8] = [
            "Lee", "Smith", "Okafor", "Nowak", "Garcia", "Tanaka", "Berg", "Silva",
        ];
        let domain = crate::domain::Email::parse(&format!("x@{domain}"))?
            .domain()
            .to_owned();
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ManageUsers)
            .await?;
        let start = tx.count_users(account.id).await?.max(0) as u64;
        let mut done = 0;
        let mut batch = Vec::with_capacity(10_000);
        for i in start..start + count {
            let email = format!("user{i:07}@{domain}");
            batch.push(crate::store::BulkUser {
                email_display: email.clone(),
                email,
                first_name: FIRST[(i % 8) as usize].to_owned(),
                last_name: format!("{}{}", LAST[((i / 8) % 8) as usize], i % 997),
                unique_ref: Some(format!("S-1-5-21-{i}")),
                user_type: UserType::Guest,
                status: UserStatus::Active,
            });
            if batch.len() == 10_000 {
                done += tx.insert_users_bulk(account.id, &batch, now).await?;
                batch.clear();
            }
        }
        done += tx.insert_users_bulk(account.id, &batch, now).await?;
        tx.analyze_users().await?;
        tx.append_audit(&NewAudit {
            at: now,
            actor: &self.actor,
            action: "user.generate",
            target: &format!("account:{}", account.id),
            details: json!({"count": done, "domain": domain}),
        })
        .await?;
        tx.commit().await?;
        Ok(done)
    }
}

#[derive(Clone, Copy)]
enum Change {
    Type(UserType),
    Status(UserStatus),
    Remove,
}
