//! The enrolment pages: minijinja templates from `assets/pages`, each replaceable by a
//! file of the same name in `serve.templates_dir`, so an organisation can brand them.
//! Values are HTML-escaped (auto-escaping by the `.html` name).

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use usher_core::error::{Error, Result};

const BUILTIN: [(&str, &str); 6] = [
    ("base.html", include_str!("../../../assets/pages/base.html")),
    (
        "enrol.html",
        include_str!("../../../assets/pages/enrol.html"),
    ),
    (
        "message.html",
        include_str!("../../../assets/pages/message.html"),
    ),
    (
        "register.html",
        include_str!("../../../assets/pages/register.html"),
    ),
    (
        "forgot.html",
        include_str!("../../../assets/pages/forgot.html"),
    ),
    (
        "password.html",
        include_str!("../../../assets/pages/password.html"),
    ),
];
const CSS: &str = include_str!("../../../assets/pages/usher.css");

#[derive(Debug)]
pub struct Pages {
    env: Environment<'static>,
    pub css: String,
}

impl Pages {
    /// The built-in pages, with any of them (and `usher.css`) replaced from `dir`.
    pub fn load(dir: Option<&Path>) -> Result<Self> {
        let read = |name: &str, builtin: &str| -> Result<String> {
            match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(p) => std::fs::read_to_string(&p)
                    .map_err(|e| Error::Template(format!("{}: {e}", p.display()))),
                None => Ok(builtin.to_owned()),
            }
        };
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        for (name, text) in BUILTIN {
            env.add_template_owned(name, read(name, text)?)
                .map_err(|e| Error::Template(format!("page {name}: {e}")))?;
        }
        Ok(Self {
            env,
            css: read("usher.css", CSS)?,
        })
    }

    pub fn render(&self, name: &str, ctx: &impl Serialize) -> Result<String> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(minijinja::value::Serde(ctx)))
            .map_err(|e| Error::Template(format!("page {name}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_overrides_replace_builtins() -> Result<()> {
        let p = Pages::load(None)?;
        let html = p.render(
            "message.html",
            &serde_json::json!({"org": "<b>Acme</b>", "heading": "Hi", "paragraphs": ["a\"<script>"]}),
        )?;
        assert!(html.contains("&lt;b&gt;Acme&lt;&#x2f;b&gt;") || html.contains("&lt;b&gt;Acme"));
        assert!(!html.contains("<script>") && !html.contains("<b>Acme"));
        let dir = tempfile::tempdir().map_err(|e| Error::Template(e.to_string()))?;
        std::fs::write(dir.path().join("usher.css"), "body{color:red}")
            .map_err(|e| Error::Template(e.to_string()))?;
        std::fs::write(dir.path().join("message.html"), "BRANDED {{ heading }}")
            .map_err(|e| Error::Template(e.to_string()))?;
        let p = Pages::load(Some(dir.path()))?;
        assert_eq!(p.css, "body{color:red}");
        assert_eq!(
            p.render("message.html", &serde_json::json!({"heading": "Hi"}))?,
            "BRANDED Hi"
        );
        Ok(())
    }
}
