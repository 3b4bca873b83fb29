//! `normalize::normalize` on any UTF-8 text: it never fails, every span it gives (tokens, URLs,
//! mentions) is in order, inside the original text, on character boundaries and not empty,
//! `normalize::slice` reads exactly those characters, and the same text folds the same way twice.

#![no_main]

use libfuzzer_sys::fuzz_target;
use seula::normalize::normalize;
use seula_fuzz::Original;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let original = Original::new(text);
    let normalized = normalize(text);
    for token in &normalized.tokens {
        // Every token is folded from at least one character of the original.
        original.check_nonempty(token.span, &format!("token {:?}", token.text));
        assert!(
            !token.text.is_empty(),
            "token with no text at {:?} in {text:?}",
            token.span
        );
    }
    for url in &normalized.urls {
        original.check_nonempty(*url, "url");
    }
    for mention in &normalized.mentions {
        original.check_nonempty(*mention, "mention");
    }
    assert_eq!(
        normalize(text),
        normalized,
        "normalize gave two answers for {text:?}"
    );
});
