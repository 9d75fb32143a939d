//! Recognising columns by their header: case, spaces, punctuation and bracketed notes
//! ("Email Address [Required]") are ignored, and each field has aliases, so usher's own
//! template, the vendors' import templates, and the usual exports of Microsoft 365, Google
//! Workspace and Active Directory load with no mapping. Anything else is mapped by hand.

use std::fmt;
use std::str::FromStr;

use super::error::ImportError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Email,
    FirstName,
    LastName,
    DisplayName,
    UniqueRef,
    UserType,
    Password,
    ForceChangePassword,
    PersonalMailbox,
    /// Whether the account is enabled at the source (Entra's accountEnabled, Google's
    /// Status, mailcow's active, AD's userAccountControl).
    Enabled,
}

impl Field {
    pub const ALL: [Field; 10] = [
        Field::Email,
        Field::FirstName,
        Field::LastName,
        Field::DisplayName,
        Field::UniqueRef,
        Field::UserType,
        Field::Password,
        Field::ForceChangePassword,
        Field::PersonalMailbox,
        Field::Enabled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::DisplayName => "display_name",
            Field::UniqueRef => "unique_ref",
            Field::UserType => "user_type",
            Field::Password => "password",
            Field::ForceChangePassword => "force_change_password",
            Field::PersonalMailbox => "personal_mailbox",
            Field::Enabled => "enabled",
        }
    }

    /// Normalised header names that mean this field, best first: when an export has
    /// several (AD's `mail` and `userPrincipalName`), the first present wins.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Email => &[
                "email",
                "emailaddress",
                "primaryemailaddress",
                "primaryemail",
                "mail",
                "primarysmtpaddress",
                "smtpaddress",
                "emailaddr",
                "username",
                "userprincipalname",
                "upn",
                "login",
            ],
            Field::FirstName => &["firstname", "givenname", "forename", "first"],
            Field::LastName => &["lastname", "surname", "sn", "familyname", "last"],
            Field::DisplayName => &["displayname", "name", "fullname", "cn"],
            Field::UniqueRef => &[
                "uniquereference",
                "uniqueref",
                "reference",
                "objectguid",
                "objectsid",
                "objectid",
                "entryuuid",
                "immutableid",
                "employeeid",
                "externalid",
                "sid",
                "guid",
            ],
            Field::UserType => &[
                "usertype",
                "type",
                "licencetype",
                "licensetype",
                "accounttype",
            ],
            Field::Password => &["password", "initialpassword"],
            Field::ForceChangePassword => &[
                "forcechangepassword",
                "mustchangepassword",
                "changepasswordatnextlogon",
                "changepasswordatnextsignin",
                "forcepasswordchange",
            ],
            Field::PersonalMailbox => &[
                "personalmailbox",
                "createpersonalmailbox",
                "personalmailboxyn",
                "ownmailbox",
            ],
            Field::Enabled => &[
                "accountenabled",
                "enabled",
                "active",
                "useraccountcontrol",
                "accountstatus",
                "userstatus",
                "status",
            ],
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Field {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = normalise(s);
        Field::ALL
            .into_iter()
            .find(|f| normalise(f.name()) == n)
            .ok_or_else(|| {
                format!(
                    "unknown field '{s}'; fields are {}",
                    Field::ALL.map(Field::name).join(", ")
                )
            })
    }
}

/// Lower case, bracketed notes dropped, letters and digits only.
pub fn normalise(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut depth = 0u32;
    for c in header.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            c if depth == 0 && c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// Which column holds each field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    /// (field, column index, header as written)
    pub found: Vec<(Field, usize, String)>,
    pub headers: Vec<String>,
    /// Fields found by an alias rather than named by `--map`: a vendor's column of the
    /// same name may mean something else, so their values are read leniently.
    pub guessed: Vec<Field>,
    /// Another address column (a UPN beside `mail`), read where the address is empty.
    pub email_fallback: Option<usize>,
}

impl Columns {
    pub fn index(&self, field: Field) -> Option<usize> {
        self.found
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, i, _)| *i)
    }

    pub fn header(&self, field: Field) -> Option<&str> {
        self.found
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, _, h)| h.as_str())
    }

    /// Whether `field` was found by an alias, not named by `--map`.
    pub fn is_guessed(&self, field: Field) -> bool {
        self.guessed.contains(&field)
    }

    /// `mapping` (from `--map email=Mail,...`; `user_type=` leaves a field unread) first,
    /// then the aliases, leaving out the columns named in `ignore` (`--ignore COLUMN`).
    pub fn resolve(
        file: &str,
        headers: &[String],
        mapping: &[(Field, String)],
        ignore: &[String],
    ) -> Result<Self, ImportError> {
        let norm: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
        let mut used = vec![false; headers.len()];
        let mut found = Vec::new();
        let missing = |what: String| ImportError::Mapping {
            file: file.to_owned(),
            reason: format!("{what}; its columns are {}", quoted(headers)),
            headers: headers.to_vec(),
        };
        for name in ignore {
            let w = normalise(name);
            let i = norm
                .iter()
                .position(|h| *h == w)
                .ok_or_else(|| missing(format!("--ignore {name}: the file has no such column")))?;
            used[i] = true;
        }
        let off: Vec<Field> = mapping
            .iter()
            .filter(|(_, wanted)| wanted.trim().is_empty())
            .map(|(f, _)| *f)
            .collect();
        for (field, wanted) in mapping.iter().filter(|(_, w)| !w.trim().is_empty()) {
            let w = normalise(wanted);
            let i = norm.iter().position(|h| *h == w).ok_or_else(|| {
                missing(format!(
                    "--map {field}={wanted}: the file has no column '{wanted}'"
                ))
            })?;
            used[i] = true;
            found.push((*field, i, headers[i].clone()));
        }
        let mut guessed = Vec::new();
        let mut email_fallback = None;
        for field in Field::ALL {
            if off.contains(&field) || found.iter().any(|(f, _, _)| *f == field) {
                continue;
            }
            // Every alias present, best first: the first is the field's column.
            let hits: Vec<usize> = field
                .aliases()
                .iter()
                .filter_map(|alias| {
                    norm.iter()
                        .enumerate()
                        .find(|(i, h)| !used[*i] && h.as_str() == *alias)
                        .map(|(i, _)| i)
                })
                .collect();
            if let Some(&i) = hits.first() {
                if field == Field::Email {
                    email_fallback = hits.get(1).copied();
                }
                used[i] = true;
                guessed.push(field);
                found.push((field, i, headers[i].clone()));
            }
        }
        if let Some(i) = email_fallback {
            used[i] = true;
        }
        if !found.iter().any(|(f, _, _)| *f == Field::Email) {
            return Err(ImportError::Mapping {
                file: file.to_owned(),
                reason: format!(
                    "no column holds e-mail addresses; the columns are {}; name one with --map email=COLUMN",
                    quoted(headers)
                ),
                headers: headers.to_vec(),
            });
        }
        found.sort_by_key(|(f, _, _)| *f);
        Ok(Self {
            found,
            headers: headers.to_vec(),
            guessed,
            email_fallback,
        })
    }
}

fn quoted(headers: &[String]) -> String {
    headers
        .iter()
        .map(|h| format!("'{}'", crate::domain::sanitize::escape_for_display(h)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `email=Mail,first_name=GivenName`; `user_type=` (no column) leaves that field
/// unread even where a column's name would be recognised.
pub fn parse_mapping(text: &str) -> Result<Vec<(Field, String)>, String> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (f, h) = pair
                .split_once('=')
                .ok_or_else(|| format!("'{pair}' is not FIELD=COLUMN"))?;
            Ok((f.trim().parse()?, h.trim().to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(headers: &[&str]) -> Result<Vec<(Field, String)>, ImportError> {
        let h: Vec<String> = headers.iter().map(|s| (*s).to_owned()).collect();
        Columns::resolve("t.csv", &h, &[], &[])
            .map(|c| c.found.into_iter().map(|(f, _, h)| (f, h)).collect())
    }

    #[test]
    fn known_exports_load_without_mapping() -> Result<(), ImportError> {
        let seed000 = resolve(&[
            "Unique Reference",
            "Primary email address",
            "FirstName",
            "LastName",
        ])?;
        assert_eq!(seed000.len(), 4);
        let seed003 = resolve(&["Email", "Name", "Password", "Force Change Password"])?;
        assert!(seed003.contains(&(Field::DisplayName, "Name".into())));
        assert!(seed003.contains(&(Field::ForceChangePassword, "Force Change Password".into())));
        let google = resolve(&[
            "First Name [Required]",
            "Last Name [Required]",
            "Email Address [Required]",
            "Password [Required]",
        ])?;
        assert!(google.contains(&(Field::Email, "Email Address [Required]".into())));
        let ad = resolve(&["objectSid", "userPrincipalName", "mail", "givenName", "sn"])?;
        assert!(
            ad.contains(&(Field::Email, "mail".into())),
            "mail beats the UPN: {ad:?}"
        );
        assert!(ad.contains(&(Field::UniqueRef, "objectSid".into())));
        let m365 = resolve(&["User Name", "First Name", "Last Name", "Display Name"])?;
        assert!(m365.contains(&(Field::Email, "User Name".into())));
        Ok(())
    }

    #[test]
    fn no_email_column_names_the_columns_and_the_fix() {
        let e = resolve(&["Mailbox", "Given"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("'Mailbox', 'Given'") && e.contains("--map email=COLUMN"),
            "{e}"
        );
    }

    #[test]
    fn explicit_mapping_wins_and_is_checked() -> Result<(), String> {
        let m = parse_mapping("email=Mailbox, first_name=Given")?;
        let h: Vec<String> = ["Mailbox", "Given", "Email"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let c = Columns::resolve("t.csv", &h, &m, &[]).map_err(|e| e.to_string())?;
        assert_eq!(
            (c.index(Field::Email), c.index(Field::FirstName)),
            (Some(0), Some(1))
        );
        let e = Columns::resolve("t.csv", &h, &parse_mapping("email=Nope")?, &[])
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("no column 'Nope'")));
        assert!(parse_mapping("emial=X").is_err());
        Ok(())
    }
}
