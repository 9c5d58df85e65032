//! Fuzzes what every HTTP function does with an event before storage: decoding the API Gateway
//! event (as the runtime wrapper in notes-http does), identity, routing, query, headers, body.
//! Seeded from the `events/` fixtures. The invariant: an input is either refused with a 4xx
//! without touching the store, or it reaches the store (whose stand-in then fails, giving 500);
//! never a panic, never a 5xx without a store call.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use notes_domain::testing::UntouchableStore;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        // libfuzzer-sys installs a panic hook that aborts even on panics the code under test
        // catches on purpose (notes_http::request_from_event catches lambda_http's); restore
        // the default hook: uncaught panics are still crashes, libfuzzer-sys aborts on them.
        drop(std::panic::take_hook());
        tokio::runtime::Builder::new_current_thread().build().expect("runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let runtime = runtime();
    // The runtime wrapper answers 400 to anything that is not a usable API Gateway event.
    let Some(request) = notes_http::request_from_event(text) else {
        return;
    };
    let store = UntouchableStore::default();
    let idempotency = notes_http::Idempotency::new(
        UntouchableStore::default(),
        notes_http::DEFAULT_WINDOW,
    );
    let (parts, body) = request.into_parts();
    let rebuild = || lambda_http::Request::from_parts(parts.clone(), body.clone());
    runtime.block_on(async {
        let responses = [
            list::handle(&store, rebuild()).await,
            create_update::handle(&store, &idempotency, rebuild()).await,
            delete::handle(&store, &store, rebuild()).await,
            post::handle(&store, &idempotency, rebuild()).await,
        ];
        for response in responses {
            let status = match response {
                Ok(response) => response.status(),
                Err(error) => error.status(),
            };
            assert!(
                status.is_client_error() || store.calls() + idempotency.store().calls() > 0,
                "status {status} without reaching the store"
            );
        }
    });
});
