//! A real browser on the exported demo site: serve it on 127.0.0.1, open the
//! home page in headless Chromium, type `T1059.006` into search, follow the
//! first result, and check the technique page and its tables loaded without
//! console errors. Ignored by default (it needs Chromium); `.ci/run` installs
//! Debian's `chromium` and runs it, and it fails there when Chromium cannot run. With `SCREENSHOTS=DIR` the test also
//! saves PNG screenshots of the search result and of the technique page.

use attack_vault::build::{BuildConfig, build};
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::{Browser, LaunchOptions};
use sigma_engine::diag::Diagnostics;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// A minimal static file server on 127.0.0.1, serving `root` until the test ends.
/// The number a script evaluates to in the page.
fn number(tab: &headless_chrome::Tab, js: &str) -> f64 {
    tab.evaluate(js, false)
        .unwrap()
        .value
        .and_then(|v| v.as_f64())
        .unwrap_or_else(|| panic!("no number from {js}"))
}

fn serve(root: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(500) {
            let Ok(mut s) = stream else { continue };
            let mut line = String::new();
            if BufReader::new(&s).read_line(&mut line).is_err() {
                continue;
            }
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .split('?')
                .next()
                .unwrap_or("/")
                .to_string();
            let rel = path.trim_start_matches('/');
            let rel = if rel.is_empty() { "index.html" } else { rel };
            let file = root.join(rel);
            let (status, body) = match std::fs::read(&file) {
                Ok(b) if !rel.contains("..") => ("200 OK", b),
                _ => ("404 Not Found", b"not found".to_vec()),
            };
            let ctype = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("css") => "text/css",
                Some("js") => "text/javascript",
                Some("json") => "application/json",
                _ => "application/octet-stream",
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
    port
}

#[test]
#[ignore = "needs Chromium (apt-get install chromium); .ci/run runs it"]
fn search_and_follow_the_first_result() {
    let chrome = chromium().expect("Chromium is not installed (apt-get install chromium)");
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    let site = dir.path().join("site");
    let diags = Diagnostics::new();
    build(
        &BuildConfig {
            out: vault.clone(),
            ..Default::default()
        },
        &diags,
    )
    .unwrap();
    // An analyst's note with words too long for a line: its name (a
    // backlink in the Python page's side column), a word of its text and
    // a footnote's address.
    let long = "ATHPowerShellCommandLineParameterVariationsWithEncodedArguments";
    std::fs::create_dir_all(vault.join("Notes")).unwrap();
    std::fs::write(
        vault.join(format!("Notes/{long}.md")),
        format!(
            "See [[T1059.006 Python]]: {long}{long}.[^1]\n\n> [!tip]- Folded tip\n> body\n\n[^1]: <https://example.org/{long}/{long}/{long}.html>\n"
        ),
    )
    .unwrap();
    // A note saved on a Mac: its name and text decomposed.
    std::fs::write(
        vault.join("Notes/Pru\u{308}fbericht.md"),
        "Kompromittierte U\u{308}berpru\u{308}fung.\n",
    )
    .unwrap();
    attack_vault::site::export(
        &attack_vault::site::ExportConfig {
            vault,
            out: site.clone(),
            base_url: None,
            templates: None,
            no_wait: false,
        },
        &diags,
    )
    .unwrap();
    let port = serve(site);
    let profile = dir.path().join("profile");
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let browser = Browser::new(LaunchOptions {
        headless: true,
        sandbox: false,
        path: Some(chrome),
        user_data_dir: Some(profile),
        window_size: Some((1280, 900)),
        args,
        idle_browser_timeout: Duration::from_secs(60),
        ..Default::default()
    })
    .expect("Chromium starts");
    let tab = browser.new_tab().unwrap();
    // Generous waits: CI machines can be slow and busy.
    tab.set_default_timeout(Duration::from_secs(30));
    let errors: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    tab.enable_log().unwrap();
    tab.enable_runtime().unwrap();
    let sink = errors.clone();
    tab.add_event_listener(Arc::new(move |e: &Event| {
        let msg = match e {
            Event::RuntimeExceptionThrown(x) => {
                Some(format!("exception: {:?}", x.params.exception_details.text))
            }
            Event::LogEntryAdded(x) if format!("{:?}", x.params.entry.level).contains("Error") => {
                Some(format!(
                    "log: {} ({})",
                    x.params.entry.text,
                    x.params.entry.url.as_deref().unwrap_or("no url")
                ))
            }
            Event::RuntimeConsoleAPICalled(x)
                if format!("{:?}", x.params.Type).contains("Error") =>
            {
                Some("console.error".to_string())
            }
            _ => None,
        };
        if let Some(m) = msg {
            sink.lock().unwrap().push(m);
        }
    }))
    .unwrap();
    tab.navigate_to(&format!("http://127.0.0.1:{port}/index.html"))
        .unwrap();
    tab.wait_until_navigated().unwrap();
    let q = tab.wait_for_element("#q").unwrap();
    q.click().unwrap();
    tab.type_str("T1059.006").unwrap();
    let first = tab.wait_for_element("#results li a").unwrap();
    let href = first
        .get_attribute_value("href")
        .unwrap()
        .unwrap_or_default();
    assert!(
        href.ends_with("techniques/t1059.006-python.html"),
        "first result: {href}"
    );
    if let Ok(dir) = std::env::var("SCREENSHOTS") {
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(Path::new(&dir).join("search.png"), png).unwrap();
    }
    first.click().unwrap();
    tab.wait_until_navigated().unwrap();
    for _ in 0..300 {
        if tab.get_url().ends_with("/techniques/t1059.006-python.html") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        tab.get_url().ends_with("/techniques/t1059.006-python.html"),
        "{}",
        tab.get_url()
    );
    let title = tab
        .wait_for_element("h1.page-title")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(title.contains("Python"), "{title}");
    // Long words break instead of widening the page past the window.
    let wider = |tab: &headless_chrome::Tab| {
        number(
            tab,
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
        ) as i64
    };
    assert!(tab.get_content().unwrap().contains(long), "the backlink");
    assert_eq!(
        wider(&tab),
        0,
        "the technique page is wider than the window"
    );
    let tables = tab.wait_for_elements("article table").unwrap();
    assert!(
        tables.len() >= 4,
        "procedures, mitigations, detection, rules and tests tables"
    );
    let text = tab
        .find_element("article")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(
        text.contains("Detection Rule") && text.contains("Rule Testing") && text.contains("APT29")
    );
    if let Ok(dir) = std::env::var("SCREENSHOTS") {
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(Path::new(&dir).join("technique.png"), png).unwrap();
    }
    // Full text: two words found only in the technique's body (the last one
    // typed as a prefix) bring it up once their index shards have loaded.
    tab.wait_for_element("#q").unwrap().click().unwrap();
    tab.type_str("portable execut").unwrap();
    let mut found = String::new();
    for _ in 0..300 {
        if let Ok(a) = tab.find_element("#results li a") {
            found = a.get_attribute_value("href").unwrap().unwrap_or_default();
            if found.ends_with("techniques/t1059.006-python.html") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        found.ends_with("techniques/t1059.006-python.html"),
        "full-text first result: {found}"
    );
    // A word typed composed finds the note that holds it decomposed.
    tab.evaluate(
        "var q = document.getElementById('q'); q.value = '\\u00fcberpr\\u00fcfung'; q.dispatchEvent(new Event('input'));",
        false,
    )
    .unwrap();
    let mut title = String::new();
    for _ in 0..300 {
        if let Ok(a) = tab.find_element("#results li a") {
            title = a.get_inner_text().unwrap_or_default();
            if title == "Pr\u{fc}fbericht" {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(title, "Pr\u{fc}fbericht", "a decomposed note's result");
    // The local graph: nodes coloured by kind, with a legend.
    let legend = tab.wait_for_elements(".graph-legend li").unwrap();
    assert!(legend.len() >= 3, "graph legend items: {}", legend.len());
    let fill = tab
        .find_element(".graph circle.k-group")
        .unwrap()
        .call_js_fn(
            "function() { return getComputedStyle(this).fill; }",
            vec![],
            false,
        )
        .unwrap()
        .value
        .unwrap();
    assert_eq!(fill, "rgb(230, 126, 34)", "groups are orange");
    if let Ok(dir) = std::env::var("SCREENSHOTS") {
        // The last search's results would cover the graph.
        tab.evaluate("document.getElementById('q').value = ''; document.getElementById('q').dispatchEvent(new Event('input')); document.activeElement.blur();", false)
            .unwrap();
        let png = tab
            .find_element(".graph")
            .unwrap()
            .capture_screenshot(CaptureScreenshotFormatOption::Png)
            .unwrap();
        std::fs::write(Path::new(&dir).join("graph.png"), png).unwrap();
    }
    // Coverage as a heatmap: coloured cells, drawn without any emoji font.
    tab.navigate_to(&format!(
        "http://127.0.0.1:{port}/coverage-enterprise-attack.html"
    ))
    .unwrap();
    tab.wait_until_navigated().unwrap();
    let cell = tab.wait_for_element("td > .cov.cov-validated").unwrap();
    // A wide note (`cssclasses: av-wide`) has the window's width, as
    // Obsidian gives it the whole pane.
    let share = number(
        &tab,
        "document.querySelector('article').getBoundingClientRect().width / window.innerWidth",
    );
    assert!(share > 0.9, "the coverage note takes {share} of the window");
    let bg = cell
        .call_js_fn(
            "function() { return getComputedStyle(this).backgroundColor; }",
            vec![],
            false,
        )
        .unwrap()
        .value
        .unwrap();
    assert_eq!(bg, "rgb(49, 163, 84)", "validated cells are green");
    let tip = cell
        .get_attribute_value("title")
        .unwrap()
        .unwrap_or_default();
    assert!(tip.contains("rules") && tip.contains("fired"), "{tip}");
    let text = tab
        .find_element("article")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(!text.contains('🟢'), "no emoji left on the page");
    // Sub-techniques fold under their technique's cell and open on a click.
    let fold = tab.wait_for_element("td details.subs summary").unwrap();
    let sub = tab.find_element("td details.subs li a.cov").unwrap();
    let visible = |e: &headless_chrome::Element| {
        let js = "function() { return this.checkVisibility({contentVisibilityAuto: true}); }";
        e.call_js_fn(js, vec![], false)
            .unwrap()
            .value
            .and_then(|v| v.as_bool())
    };
    assert_eq!(visible(&sub), Some(false), "folded at first");
    fold.click().unwrap();
    assert_eq!(visible(&sub), Some(true), "shown once opened");
    let href = sub.get_attribute_value("href").unwrap().unwrap_or_default();
    assert!(
        href.starts_with("techniques/t") && href.contains('.'),
        "{href}"
    );
    if let Ok(dir) = std::env::var("SCREENSHOTS") {
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(Path::new(&dir).join("coverage.png"), png).unwrap();
    }
    // The long words' own page: its text and its footnote's address.
    tab.navigate_to(&format!(
        "http://127.0.0.1:{port}/notes/{}.html",
        long.to_lowercase()
    ))
    .unwrap();
    tab.wait_until_navigated().unwrap();
    tab.wait_for_element(".footnote-definition").unwrap();
    assert_eq!(wider(&tab), 0, "the note's page is wider than the window");
    // A folded callout's marker and title on one line, as Obsidian draws it.
    let below = number(
        &tab,
        "(() => { const s = document.querySelector('details.callout summary'); \
         return s.querySelector('.callout-title').getBoundingClientRect().top - s.getBoundingClientRect().top; })()",
    );
    assert!(
        below < 4.0,
        "the title sits {below} px below its marker's line"
    );
    let errs = errors.lock().unwrap().clone();
    assert!(errs.is_empty(), "console errors: {errs:?}");
}
