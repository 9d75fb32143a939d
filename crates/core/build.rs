// The migrations are embedded by `sqlx::migrate!`, which cannot tell cargo to watch them:
// without this, a changed migration is not built in until some Rust file changes.
fn main() {
    println!("cargo:rerun-if-changed=../../assets/migrations");
}
