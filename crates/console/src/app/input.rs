//! The console's bottom line: searching as you type, the `:` command line and the
//! prompts (grant, domain, mailbox), each edited in place and submitted with enter.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Input, Tab};
use crate::action::Effect;
use crate::command;
use crate::keymap::Cmd;
use crate::prompt::{Prompt, PromptKind, split_grant};

impl App {
    pub(super) fn prompt(&mut self, kind: PromptKind) {
        self.input = Some(Input::Prompt(Prompt {
            kind,
            text: String::new(),
        }));
    }

    pub(super) fn submit_prompt(&mut self, p: Prompt) -> Vec<Effect> {
        let text = p.text.trim().to_owned();
        if text.is_empty() {
            return Vec::new();
        }
        let effect = match p.kind {
            PromptKind::Grant { user_id, .. } | PromptKind::Revoke { user_id, .. } => {
                let (what, mailbox) = split_grant(&text);
                Effect::Grant {
                    user_id,
                    what,
                    mailbox,
                    revoke: matches!(p.kind, PromptKind::Revoke { .. }),
                }
            }
            PromptKind::AddDomain => Effect::AddDomain(text),
            PromptKind::VerifyManually { name } => Effect::VerifyDomain {
                name,
                how: usher_core::service::Verify::Manual(text),
            },
            PromptKind::NewMailbox => {
                let (address, name) = text.split_once(' ').unwrap_or((&text, ""));
                Effect::NewMailbox {
                    address: address.to_owned(),
                    name: name.trim().to_owned(),
                }
            }
        };
        self.in_flight += 1;
        vec![effect]
    }

    pub(super) fn on_input_key(&mut self, cmd: Option<Cmd>, key: KeyEvent) -> Vec<Effect> {
        let Some(input) = &mut self.input else {
            return Vec::new();
        };
        match (cmd, input) {
            (Some(Cmd::Cancel), Input::Search(_)) => {
                self.input = None;
                self.set_search(String::new())
            }
            (
                Some(Cmd::Cancel),
                Input::Command(_) | Input::Path(_) | Input::Mapping(_) | Input::Prompt(_),
            ) => {
                self.input = None;
                Vec::new()
            }
            (Some(Cmd::Submit), Input::Prompt(p)) => {
                let p = p.clone();
                self.input = None;
                self.submit_prompt(p)
            }
            (Some(Cmd::Complete), Input::Prompt(p)) => {
                let cands = crate::prompt::candidates(p, &self.roles, &self.domains);
                complete_prompt(p, &cands);
                Vec::new()
            }
            (_, Input::Prompt(p)) => {
                edit(&mut p.text, &key);
                Vec::new()
            }
            (Some(Cmd::Submit), Input::Path(path)) => {
                let path = path.trim().to_owned();
                self.input = None;
                self.open_path(path)
            }
            (Some(Cmd::Complete), Input::Path(path)) => {
                *path = crate::tabs::import::complete_path(path);
                Vec::new()
            }
            (Some(Cmd::Submit), Input::Mapping(text)) => {
                let text = text.clone();
                self.input = None;
                self.submit_mapping(&text)
            }
            (Some(Cmd::Complete), Input::Mapping(text)) => {
                *text = self.import.complete_mapping(text);
                Vec::new()
            }
            (_, Input::Path(text) | Input::Mapping(text)) => {
                edit(text, &key);
                Vec::new()
            }
            (Some(Cmd::Submit), Input::Search(_)) => {
                self.input = None;
                Vec::new()
            }
            (Some(Cmd::Submit), Input::Command(line)) => {
                let text = line.text.clone();
                self.input = None;
                self.run_command(&text)
            }
            (Some(Cmd::Complete), Input::Command(line)) => {
                line.complete();
                Vec::new()
            }
            (_, Input::Search(text)) => {
                if edit(text, &key) {
                    let t = text.clone();
                    return self.set_search(t);
                }
                Vec::new()
            }
            (_, Input::Command(line)) => {
                edit(&mut line.text, &key);
                Vec::new()
            }
        }
    }

    /// Opens the file typed for the import's preview.
    fn open_path(&mut self, path: String) -> Vec<Effect> {
        if path.is_empty() {
            return Vec::new();
        }
        let g = self.next_generation();
        self.in_flight += 1;
        vec![self.import.open(g, path)]
    }

    /// Reads the open file again with the columns the operator mapped.
    fn submit_mapping(&mut self, text: &str) -> Vec<Effect> {
        match usher_core::import::parse_mapping(text) {
            Ok(mapping) => {
                let g = self.next_generation();
                self.in_flight += 1;
                vec![self.import.remap(g, mapping)]
            }
            Err(e) => {
                self.error(format!("mapping: {e}"));
                Vec::new()
            }
        }
    }

    /// Search as you type: every change is a new request; older answers are dropped.
    pub(super) fn set_search(&mut self, text: String) -> Vec<Effect> {
        let g = self.next_generation();
        let fx = match self.tab {
            Tab::Invitations => {
                self.invitations.search = text;
                self.invitations.reload(g)
            }
            Tab::Users | Tab::Import | Tab::Roles | Tab::Domains | Tab::Sync => {
                self.users.search = text;
                self.users.reload(g, self.page_rows)
            }
        };
        self.in_flight += 1;
        vec![fx]
    }

    pub(super) fn run_command(&mut self, text: &str) -> Vec<Effect> {
        let parsed = command::parse(text);
        // A command is refused as its key is: no permission, or inviting switched off.
        if let Some(cmd) = parsed.as_ref().ok().and_then(command::Parsed::key_twin)
            && self.refused(cmd)
        {
            return Vec::new();
        }
        match parsed {
            Ok(command::Parsed::Quit) => {
                self.quit = true;
                Vec::new()
            }
            Ok(command::Parsed::Help) => {
                self.input = None;
                self.open_help();
                Vec::new()
            }
            Ok(command::Parsed::Tab(t)) => {
                self.tab = t;
                Vec::new()
            }
            Ok(command::Parsed::Invite(to)) => {
                self.open_form(&to);
                Vec::new()
            }
            Ok(command::Parsed::ResendExpired) => {
                if self.read_only() {
                    self.error("read-only: resending is switched off");
                    return Vec::new();
                }
                self.in_flight += 1;
                vec![Effect::AskResendExpired]
            }
            Ok(command::Parsed::Filter(status)) => {
                self.tab = Tab::Invitations;
                self.invitations.filter = status;
                let g = self.next_generation();
                self.in_flight += 1;
                vec![self.invitations.reload(g)]
            }
            Ok(command::Parsed::Search(t)) => self.set_search(t),
            Ok(command::Parsed::Template(name)) => vec![Effect::LoadTemplates(name)],
            Ok(command::Parsed::Report { kind, format, path }) => {
                self.report = Some((0, 0));
                self.info(format!("writing the {} report to {path}", kind.name()));
                vec![Effect::Report { kind, format, path }]
            }
            Err(e) => {
                self.error(e);
                Vec::new()
            }
        }
    }
}

/// Line editing for the bottom input: typing, backspace, ctrl-u. True if the text changed.
fn edit(text: &mut String, key: &KeyEvent) -> bool {
    match key.code {
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            let changed = !text.is_empty();
            text.clear();
            changed
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) && !c.is_control() => {
            text.push(c);
            true
        }
        KeyCode::Backspace => text.pop().is_some(),
        _ => false,
    }
}

/// Completes a prompt's text among its candidates; a revocation cycles through the
/// grants held, which are few, so a prefix would rarely narrow them.
fn complete_prompt(p: &mut Prompt, cands: &[String]) {
    p.text = match &p.kind {
        PromptKind::Revoke { held, .. } => {
            let at = held.iter().position(|h| *h == p.text);
            held.get(at.map_or(0, |i| (i + 1) % held.len()))
                .cloned()
                .unwrap_or_default()
        }
        _ => crate::complete::complete_from(&p.text, cands),
    };
}
