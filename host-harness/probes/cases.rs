/// Calls `$m!` with every case of the sandbox probe guest: an identifier
/// and the config name `verify-form` answers it by.
///
/// The one list of cases (wasmtime's `foreach_*!` pattern): the probe
/// guest dispatches on it, so a case needs its function there; the
/// conformance suite's sandbox module maps each case to its test, so a
/// case without a test does not compile.
#[macro_export]
macro_rules! foreach_probe_case {
    ($m:ident) => {
        $m! {
            spin: "loop",
            alloc: "alloc",
            panic: "panic",
            stack: "stack",
            egress: "egress",
            order: "order",
            storage: "storage",
        }
    };
}
