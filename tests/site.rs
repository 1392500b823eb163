//! Static site export: rendering of the tricky forms, safety, and a link
//! checker over the demo site and the full real vault.

use crate::common;

use attack_vault::build::BuildConfig;
use attack_vault::site::{ExportConfig, export, site_files};
use sigma_engine::diag::Diagnostics;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

fn export_to(vault: &Path, out: &Path) -> attack_vault::site::ExportSummary {
    export(
        &ExportConfig {
            vault: vault.to_path_buf(),
            out: out.to_path_buf(),
            base_url: Some("https://example.org/vault".into()),
            templates: None,
            no_wait: false,
        },
        &Diagnostics::new(),
    )
    .expect("export succeeds")
}

fn attr_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let pat = format!("{attr}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(p) = rest.find(&pat) {
        let after = &rest[p + pat.len()..];
        let end = after.find('"').unwrap_or(after.len());
        out.push(&after[..end]);
        rest = &after[end..];
    }
    out
}

/// Every internal href/src resolves to a file of the site, every `#anchor`
/// to an element id. Returns (links checked, problems).
fn check_links(site: &Path) -> (usize, Vec<String>) {
    let files = site_files(site);
    let mut ids: HashMap<String, HashSet<String>> = HashMap::new();
    for f in files.iter().filter(|f| f.ends_with(".html")) {
        let html = std::fs::read_to_string(site.join(f)).unwrap();
        ids.insert(
            f.clone(),
            attr_values(&html, "id")
                .into_iter()
                .map(str::to_string)
                .collect(),
        );
    }
    let mut checked = 0;
    let mut problems = Vec::new();
    for f in files.iter().filter(|f| f.ends_with(".html")) {
        let html = std::fs::read_to_string(site.join(f)).unwrap();
        let dir = Path::new(f).parent().unwrap_or(Path::new(""));
        for link in attr_values(&html, "href")
            .into_iter()
            .chain(attr_values(&html, "src"))
        {
            let link = link.replace("&#x2F;", "/").replace("&amp;", "&");
            if link.starts_with("http://")
                || link.starts_with("https://")
                || link.starts_with("//")
                || link.starts_with("mailto:")
                || link.starts_with("data:")
            {
                continue;
            }
            checked += 1;
            let (path, anchor) = match link.split_once('#') {
                Some((p, a)) => (p.to_string(), Some(a.to_string())),
                None => (link.clone(), None),
            };
            let target = if path.is_empty() {
                f.clone()
            } else {
                let mut parts: Vec<String> = dir
                    .to_string_lossy()
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                for seg in path.split('/') {
                    match seg {
                        ".." => {
                            parts.pop();
                        }
                        "." | "" => {}
                        s => parts.push(s.to_string()),
                    }
                }
                parts.join("/")
            };
            if !files.contains(&target) {
                problems.push(format!("{f}: {link} → missing {target}"));
            } else if let Some(a) = anchor
                && target.ends_with(".html")
                && !ids.get(&target).is_some_and(|s| s.contains(&a))
            {
                problems.push(format!("{f}: {link} → no element #{a}"));
            }
        }
    }
    (checked, problems)
}

/// The vault notes (paths without `.md`) the site's full-text index lists
/// for `word`, decoding the shard the page would load.
fn indexed_pages(site: &Path, word: &str) -> BTreeSet<String> {
    let index = std::fs::read_to_string(site.join("search-index.js")).unwrap();
    let json = index
        .strip_prefix("window.SEARCH_INDEX=")
        .and_then(|r| r.split_once(";\n"))
        .unwrap()
        .0;
    let pages: Vec<serde_json::Value> = serde_json::from_str(json).unwrap();
    let shard = site.join(format!("search/{}.js", &word[..1]));
    let js = std::fs::read_to_string(shard).unwrap();
    let (_, body) = js.split_once(',').unwrap();
    let map: HashMap<String, Vec<u32>> =
        serde_json::from_str(body.trim_end().trim_end_matches(");")).unwrap();
    let mut n = 0;
    map.get(word)
        .into_iter()
        .flatten()
        .map(|d| {
            n += d;
            pages[n as usize]["p"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The notes whose body (after the frontmatter) holds `word` as a whole
/// word, in any case: what a full-text search must find.
fn notes_with_word(vault: &Path, word: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(&format!(
        r"(?i)(^|[^\p{{L}}\p{{N}}]){word}([^\p{{L}}\p{{N}}]|$)"
    ))
    .unwrap();
    walkdir::WalkDir::new(vault)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .filter(|e| {
            !e.path()
                .components()
                .any(|c| c.as_os_str() == ".attack-vault")
        })
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap();
            let body = match text
                .strip_prefix("---\n")
                .and_then(|r| r.split_once("\n---\n"))
            {
                Some((_, b)) => b.to_string(),
                None => text,
            };
            re.is_match(&body).then(|| {
                let rel = e.path().strip_prefix(vault).unwrap().to_string_lossy();
                rel.trim_end_matches(".md").replace('\\', "/")
            })
        })
        .collect()
}

#[test]
fn demo_site_links_resolve() {
    let (dir, _, _) = common::build_into(BuildConfig::default());
    let site = dir.path().join("site");
    let s = export_to(&dir.path().join("vault"), &site);
    assert!(s.unresolved.is_empty(), "{:?}", s.unresolved);
    let (n, problems) = check_links(&site);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(n > 100);
    let index = std::fs::read_to_string(site.join("search-index.js")).unwrap();
    assert!(index.contains("\"i\":\"T1059.006\""));
    // Full text: every note whose body holds the word, and only those.
    let vault = dir.path().join("vault");
    for word in ["interpreter", "python", "base64"] {
        let want = notes_with_word(&vault, word);
        assert!(!want.is_empty(), "{word}");
        assert_eq!(indexed_pages(&site, word), want, "{word}");
    }
    assert!(site.join("sitemap.xml").is_file());
    let t = std::fs::read_to_string(site.join("techniques/t1059.006-python.html")).unwrap();
    assert!(
        t.contains("<h2>Backlinks</h2>") && t.contains("<svg"),
        "backlinks and graph"
    );
}

#[test]
fn user_notes_hostile_html_and_obsidian_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    std::fs::create_dir_all(v.join("A")).unwrap();
    std::fs::create_dir_all(v.join("B")).unwrap();
    std::fs::write(v.join("A/Same.md"), "# In A\n\nback to [[Start]]").unwrap();
    std::fs::write(v.join("B/Same.md"), "# In B\n").unwrap();
    std::fs::write(
        v.join("Start.md"),
        "---\ntags: [Mixed, mixed, index]\nlink: \"[[B/Same]]\"\n---\n# Start\n\n<script>alert(1)</script><img src=\"https://example.org/x.png\" onerror=alert(2)>\n\n[[Same]] [[B/Same|the B one]] [[Nowhere]] [[#Heading, with: punctuation!]]\n\n## Heading, with: punctuation!\n\n| a | b |\n| --- | --- |\n| [[Same\\|alias in table]] | x |\n\n> [!tip]- Folded\n> body\n\n%% secret %% #Tag_One and ![[Same]] and [[Été]]\n",
    )
    .unwrap();
    std::fs::write(v.join("Été.md"), "# Été\n").unwrap();
    std::fs::write(
        v.join("Quiet.md"),
        "# Quiet\n\nNo HTML here, only [a link](javascript:alert(3)) and [web](https://example.org/).\n",
    )
    .unwrap();
    let site = dir.path().join("s");
    let s = export_to(&v, &site);
    assert_eq!(
        s.unresolved,
        vec![("Start".to_string(), "Nowhere".to_string())]
    );
    let html = std::fs::read_to_string(site.join("start.html")).unwrap();
    assert!(!html.contains("<script>alert"), "no live script");
    // A note without raw HTML is still checked for links that run code.
    let quiet = std::fs::read_to_string(site.join("quiet.html")).unwrap();
    assert!(!quiet.contains("javascript:"), "{quiet}");
    assert!(quiet.contains("href=\"https://example.org/\""));
    assert!(!html.contains("onerror"), "no event handler");
    assert!(
        html.contains("href=\"a/same.html\""),
        "shortest path wins: {html}"
    );
    assert!(
        html.contains("href=\"b/same.html\""),
        "folder-qualified link"
    );
    assert!(html.contains(">alias in table</a>"));
    assert!(html.contains("class=\"unresolved\""));
    assert!(html.contains("href=\"#heading-with-punctuation\""));
    assert!(html.contains("id=\"heading-with-punctuation\""));
    assert!(html.contains("callout-title callout-tip"));
    assert!(!html.contains("secret"));
    assert!(
        html.contains("href=\"ue9tue9.html\""),
        "non-ASCII names get ASCII URLs: {html}"
    );
    // Tags fold by case into one page.
    assert!(site.join("tags/mixed.html").is_file());
    assert!(site.join("tags/tag_one.html").is_file());
    // The tag `index` does not take the place of the tag index.
    let index = std::fs::read_to_string(site.join("tags/index.html")).unwrap();
    assert!(index.contains("<title>Tags</title>"), "{index}");
    assert!(
        std::fs::read_to_string(site.join("tags/index-.html"))
            .unwrap()
            .contains("#index")
    );
    let (_, problems) = check_links(&site);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_images_and_files_notes_use_are_published_and_links_in_markdown_lead_to_pages() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    for f in ["img/Shot 1.png", "docs/report.pdf", "unused.png", "a.svg"] {
        let p = v.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, f.as_bytes()).unwrap();
    }
    std::fs::create_dir_all(v.join("Hunts")).unwrap();
    std::fs::write(v.join("Other.md"), "# Other\n").unwrap();
    std::fs::write(
        v.join("Hunts/Log.md"),
        "# Log\n\n![[Shot 1.png|320]] ![shot](../img/Shot%201.png) [[report.pdf]] [the report](<../docs/report.pdf>) [other](../Other.md) ![[a.svg]] ![lost](lost.png)\n",
    )
    .unwrap();
    let site = dir.path().join("s");
    let s = export_to(&v, &site);
    let mut unresolved: Vec<&str> = s.unresolved.iter().map(|(_, t)| t.as_str()).collect();
    unresolved.sort();
    assert_eq!(unresolved, ["lost.png"]);
    let html = std::fs::read_to_string(site.join("hunts/log.html")).unwrap();
    assert!(
        html.contains("<span>a.svg</span>"),
        "SVG is not published: {html}"
    );
    assert!(
        html.contains("<img src=\"../files/img/shot-1.png\" alt=\"Shot 1.png\" width=\"320\">"),
        "{html}"
    );
    assert!(
        html.contains("<img src=\"../files/img/shot-1.png\" alt=\"shot\""),
        "{html}"
    );
    assert_eq!(
        html.matches("href=\"../files/docs/report.pdf\"").count(),
        2,
        "{html}"
    );
    assert!(html.contains("href=\"../other.html\""), "{html}");
    assert_eq!(
        std::fs::read(site.join("files/img/shot-1.png")).unwrap(),
        b"img/Shot 1.png"
    );
    assert!(site.join("files/docs/report.pdf").is_file());
    assert!(
        !site.join("files/unused.png").exists(),
        "only what pages use"
    );
    assert!(!site.join("files/a.svg").exists());
    let (_, problems) = check_links(&site);
    assert!(problems.is_empty(), "{problems:#?}");
    // A file no page uses any more leaves the site.
    std::fs::write(v.join("Hunts/Log.md"), "# Log\n\n[[report.pdf]]\n").unwrap();
    export_to(&v, &site);
    assert!(!site.join("files/img/shot-1.png").exists());
    assert!(site.join("files/docs/report.pdf").is_file());
    let r = attack_vault::vault::check::check_vault(&v);
    assert!(r.is_clean(), "{:?}", r.unresolved);
}

#[test]
fn notes_marked_publish_false_or_draft_stay_out_of_the_site() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    std::fs::create_dir_all(&v).unwrap();
    let write = |name: &str, text: &str| std::fs::write(v.join(name), text).unwrap();
    write(
        "Public.md",
        "# Public\n\nsee [[Secret]], [[Draft]], [[Ghost]] and [[Nope]]; zebra\n",
    );
    write(
        "Secret.md",
        "---\npublish: false\ntags: [hidden]\n---\n# Secret\n\nzebra creds [[Public]]\n",
    );
    write("Draft.md", "---\ndraft: 'true'\n---\n# Draft\n");
    write("Later.md", "---\npublish: true\n---\n# Later\n\nzebra\n");
    // Private however written: Windows line ends, Latin-1 bytes, YAML's
    // `False`, a byte order mark (Notepad, PowerShell 5).
    std::fs::write(
        v.join("Latin.md"),
        b"---\r\nauthor: R\xe9my\r\npublish: False\r\n---\r\n# Latin\r\n\r\nzebra\r\n",
    )
    .unwrap();
    write(
        "Marked.md",
        "\u{feff}---\npublish: false\n---\n# Marked\n\nzebra\n",
    );
    let site = dir.path().join("s");
    let s = export_to(&v, &site);
    let unresolved: Vec<&str> = s.unresolved.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        unresolved,
        ["Ghost", "Nope"],
        "a note left out is no broken link"
    );
    assert!(!site.join("secret.html").exists() && !site.join("draft.html").exists());
    assert!(!site.join("latin.html").exists() && !site.join("marked.html").exists());
    assert!(!site.join("tags/hidden.html").exists(), "nor are its tags");
    let found = indexed_pages(&site, "zebra");
    assert_eq!(
        found,
        BTreeSet::from(["Later".to_string(), "Public".to_string()])
    );
    let public = std::fs::read_to_string(site.join("public.html")).unwrap();
    assert!(
        !public.contains("secret.html"),
        "no link, no backlink: {public}"
    );
    assert!(
        public.contains("<span>Secret</span>"),
        "plain text: {public}"
    );
    assert!(public.contains("title=\"unresolved: Nope\""), "{public}");
    // A missing note that appears, private: the page naming it, unchanged,
    // no longer draws the link as broken.
    write("Ghost.md", "---\npublish: false\n---\n# Ghost\n");
    export_to(&v, &site);
    let public = std::fs::read_to_string(site.join("public.html")).unwrap();
    assert!(public.contains("<span>Ghost</span>"), "{public}");
    let (_, problems) = check_links(&site);
    assert!(problems.is_empty(), "{problems:#?}");
    // A published note made private leaves the site at the next export.
    write("Later.md", "---\npublish: false\n---\n# Later\n");
    export_to(&v, &site);
    assert!(!site.join("later.html").exists());
    // With nothing left to publish, the export says so and writes nothing.
    write("Public.md", "---\npublish: false\n---\n");
    let out = dir.path().join("empty");
    let cfg = ExportConfig {
        vault: v.clone(),
        out: out.clone(),
        base_url: None,
        templates: None,
        no_wait: false,
    };
    let err = export(&cfg, &Diagnostics::new()).unwrap_err();
    assert!(
        err.message
            .contains("no note to publish: all 7 say `publish: false` or `draft: true`"),
        "{}",
        err.message
    );
    assert!(!out.exists());
}

#[test]
fn embedded_notes_are_shown_in_place_and_private_ones_never() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    std::fs::create_dir_all(v.join("Playbooks")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(v.join(name), text).unwrap();
    write(
        "Case 7.md",
        "# Case 7\n\n![[Triage#Scope]]\n![[Secret]]\n\n![[Triage#^first]]\n\n![[Case 7]]\n",
    );
    write(
        "Playbooks/Triage.md",
        "---\ntags: [playbook]\n---\n# Triage\n\nIntro.\n\n## Scope\n\n\
         Check [[Hosts]] first. #scoping ^first\n\n## Later\n\nNot shown.\n",
    );
    write("Playbooks/Hosts.md", "# Hosts\n");
    write(
        "Secret.md",
        "---\npublish: false\n---\n# Secret\n\nclassified words\n",
    );
    let site = dir.path().join("s");
    let summary = export_to(&v, &site);
    assert!(summary.unresolved.is_empty(), "{:?}", summary.unresolved);
    let case = std::fs::read_to_string(site.join("case-7.html")).unwrap();
    assert!(
        case.contains("<a href=\"playbooks/triage.html#scope\">Triage › Scope</a>"),
        "{case}"
    );
    // The embedded text's links lead from the page that shows it.
    assert!(
        case.contains("<a href=\"playbooks/hosts.html\">Hosts</a>"),
        "{case}"
    );
    assert!(
        !case.contains("Not shown") && !case.contains("Intro."),
        "{case}"
    );
    assert_eq!(
        case.matches("Check ").count(),
        2,
        "the section and the block"
    );
    assert!(case.contains("<span>Secret</span>"), "{case}");
    assert!(
        case.contains("<p><a href=\"case-7.html\">Case 7</a></p>"),
        "a page never shows itself: {case}"
    );
    let everything: String = pages_of(&site)
        .into_iter()
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .collect();
    assert!(
        !everything.contains("classified"),
        "a private note is never shown"
    );
    // The page shows the embedded tag but does not carry it.
    let tag = std::fs::read_to_string(site.join("tags/scoping.html")).unwrap();
    assert!(
        tag.contains("triage.html") && !tag.contains("case-7.html"),
        "{tag}"
    );
    let (checked, problems) = check_links(&site);
    assert!(checked > 0 && problems.is_empty(), "{problems:#?}");
    // Editing the embedded note changes the page that shows it.
    let triage = v.join("Playbooks/Triage.md");
    let text = std::fs::read_to_string(&triage).unwrap();
    std::fs::write(&triage, text.replace("first.", "twice.")).unwrap();
    export_to(&v, &site);
    let case = std::fs::read_to_string(site.join("case-7.html")).unwrap();
    assert_eq!(case.matches("twice.").count(), 2, "{case}");
}

#[test]
fn a_note_that_is_not_utf8_still_gets_its_page_and_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    std::fs::create_dir_all(&v).unwrap();
    std::fs::write(v.join("Home.md"), "# Home\n\n[[Latin]]\n").unwrap();
    std::fs::write(v.join("Latin.md"), b"# Latin\n\ncaf\xe9 [[Home]]\n").unwrap();
    let diags = Diagnostics::new();
    let site = dir.path().join("s");
    let cfg = ExportConfig {
        vault: v.clone(),
        out: site.clone(),
        base_url: None,
        templates: None,
        no_wait: false,
    };
    let s = export(&cfg, &diags).unwrap();
    assert_eq!(s.pages, 2);
    assert!(s.unresolved.is_empty(), "{:?}", s.unresolved);
    let page = std::fs::read_to_string(site.join("latin.html")).unwrap();
    assert!(page.contains("caf\u{fffd}"), "{page}");
    assert!(page.contains("href=\"home.html\""), "its links still work");
    let home = std::fs::read_to_string(site.join("home.html")).unwrap();
    assert!(home.contains("href=\"latin.html\""));
    let warnings: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("Latin.md") && warnings[0].contains("not valid UTF-8 at byte 12"),
        "{warnings:?}"
    );
}

#[test]
fn heatmap_cells_fold_their_sub_techniques() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    std::fs::create_dir_all(v.join("Techniques")).unwrap();
    let technique = |id: &str, name: &str, cov: &str, parent: &str| {
        format!(
            "---\nid: \"{id}\"\nname: \"{name}\"\ntype: \"technique\"\n{parent}coverage: \"{cov}\"\nrules: 2\nrules_fired: 1\natomic_tests: 0\n---\n# {name}\n"
        )
    };
    std::fs::write(
        v.join("Techniques/T1 Parent.md"),
        technique("T1", "Parent", "rules only", ""),
    )
    .unwrap();
    std::fs::write(
        v.join("Techniques/T1.001 Child.md"),
        technique(
            "T1.001",
            "Child",
            "validated",
            "parent: \"[[T1 Parent]]\"\n",
        ),
    )
    .unwrap();
    std::fs::write(
        v.join("Coverage.md"),
        "---\ntype: \"coverage\"\n---\n# Coverage\n\n| Tactic |\n| --- |\n| 🟡 [[T1 Parent\\|Parent]] |\n",
    )
    .unwrap();
    let site = dir.path().join("s");
    export_to(&v, &site);
    let page = std::fs::read_to_string(site.join("coverage.html")).unwrap();
    assert!(
        page.contains("<span class=\"cov cov-rules\" title=\"Parent: rules only; 2 rules, 1 fired, 0 atomic tests\">"),
        "{page}"
    );
    assert!(
        page.contains("<details class=\"subs\"><summary>1 sub-technique</summary><ul><li><a class=\"cov cov-validated\" href=\"techniques/t1.001-child.html\" title=\"Child: validated; 2 rules, 1 fired, 0 atomic tests\">T1.001 Child</a></li></ul></details>"),
        "{page}"
    );
    let (_, problems) = check_links(&site);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn full_real_vault_exports_without_broken_links() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let trees = [
        "rules",
        "rules-emerging-threats",
        "rules-threat-hunting",
        "rules-placeholder",
        "rules-compliance",
    ];
    let (dir, _, summary) = common::build_into(BuildConfig {
        attack: vec![data.join("attack/v18.1/enterprise-attack.json")],
        sigma: trees.iter().map(|t| data.join("sigma").join(t)).collect(),
        atomics: Some(data.join("atomics/atomics")),
        ..Default::default()
    });
    let site = dir.path().join("site");
    let read_fast = frontmatter_read_fast(&dir.path().join("vault"));
    assert!(read_fast > 9000, "{read_fast}");
    let s = export_to(&dir.path().join("vault"), &site);
    assert!(
        s.unresolved.is_empty(),
        "{:?}",
        &s.unresolved[..s.unresolved.len().min(5)]
    );
    let vault = dir.path().join("vault");
    for word in ["lsass", "mimikatz", "powershell"] {
        let want = notes_with_word(&vault, word);
        assert!(want.len() > 10, "{word}");
        assert_eq!(indexed_pages(&site, word), want, "{word}");
    }
    let (n, problems) = check_links(&site);
    assert!(
        problems.is_empty(),
        "{} broken: {:#?}",
        problems.len(),
        &problems[..problems.len().min(10)]
    );
    eprintln!(
        "{} notes → {} pages, {} tag pages, {n} internal links checked",
        summary.notes, s.pages, s.tags
    );
}

/// How many notes' properties are read without the YAML parser; each
/// reading must equal the parser's, and every written note's must be one.
fn frontmatter_read_fast(vault: &Path) -> usize {
    use attack_vault::vault::frontmatter::{self, canonical};
    let mut fast = 0;
    for file in attack_vault::vault::note_files(vault) {
        let text = std::fs::read_to_string(&file).unwrap();
        let Some(yaml) = frontmatter::split(&text).0 else {
            continue;
        };
        let slow: indexmap::IndexMap<String, serde_json::Value> =
            serde_saphyr::from_str(yaml).unwrap();
        let got = canonical::parse(yaml).unwrap_or_else(|| panic!("{}", file.display()));
        assert_eq!(got, slow, "{}", file.display());
        fast += 1;
    }
    fast
}

#[test]
fn the_demo_vault_properties_are_read_without_the_yaml_parser() {
    let vault = Path::new(env!("CARGO_MANIFEST_DIR")).join("vault");
    let notes = attack_vault::vault::note_files(&vault).len();
    assert!(notes > 30);
    assert_eq!(frontmatter_read_fast(&vault), notes);
}

/// Copy the committed example vault's notes (not its state folder).
fn copy_demo_vault(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("vault");
    for e in walkdir::WalkDir::new(&from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = e.path().strip_prefix(&from).unwrap();
        if rel.starts_with(".attack-vault") || !e.file_type().is_file() {
            continue;
        }
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(e.path(), dest).unwrap();
    }
}

/// The site's files, its state folder aside.
fn pages_of(site: &Path) -> Vec<(String, Vec<u8>)> {
    common::tree(site)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".attack-vault/"))
        .collect()
}

#[test]
fn a_re_export_renders_again_all_that_changed_and_equals_a_fresh_one() {
    let dir = tempfile::tempdir().unwrap();
    let (v, a, b) = (
        dir.path().join("v"),
        dir.path().join("a"),
        dir.path().join("b"),
    );
    copy_demo_vault(&v);
    // A note embedding notes that change, go and move.
    std::fs::write(
        v.join("Embeds.md"),
        "# Embeds\n\n![[T1059.006 Python]]\n![[G0016 APT29]]\n![[M1038 Execution Prevention]]\n",
    )
    .unwrap();
    export_to(&v, &a);
    // A note's text, a new note linking another (backlinks, graphs), a
    // note removed and one renamed (links to them no longer resolve).
    let python = v.join("Techniques/T1059.006 Python.md");
    let text = std::fs::read_to_string(&python).unwrap();
    std::fs::write(&python, text + "\nSeen in case 12.\n").unwrap();
    std::fs::write(
        v.join("Case 12.md"),
        "# Case 12\n\n[[T1059.001 PowerShell]] #case-12\n",
    )
    .unwrap();
    std::fs::remove_file(v.join("Mitigations/M1038 Execution Prevention.md")).unwrap();
    std::fs::rename(
        v.join("Groups/G0016 APT29.md"),
        v.join("Groups/G0016 APT 29.md"),
    )
    .unwrap();
    // And pages of the site itself changed or removed by hand.
    std::fs::write(a.join("home.html"), "tampered").unwrap();
    std::fs::remove_file(a.join("techniques.html")).unwrap();
    let again = export_to(&v, &a);
    export_to(&v, &b);
    let (re, fresh) = (pages_of(&a), pages_of(&b));
    assert_eq!(
        re.iter().map(|f| &f.0).collect::<Vec<_>>(),
        fresh.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((path, x), (_, y)) in re.iter().zip(&fresh) {
        assert!(x == y, "{path} differs from a fresh export");
    }
    assert!(
        again.write.unchanged > 0 && again.write.written > 0,
        "{:?}",
        again.write
    );
    // Nothing changed: nothing is written.
    let third = export_to(&v, &a);
    assert_eq!(third.write.written, 0, "{:?}", third.write);
}

#[test]
fn notes_never_take_the_place_of_the_sites_own_pages() {
    let dir = tempfile::tempdir().unwrap();
    let (v, s) = (dir.path().join("v"), dir.path().join("s"));
    std::fs::create_dir_all(v.join("Tags")).unwrap();
    std::fs::create_dir_all(v.join("Search")).unwrap();
    std::fs::write(
        v.join("Home.md"),
        "# Home\n\n[[index]] [[Tags/foo]] [[Search/x]] #foo\n",
    )
    .unwrap();
    std::fs::write(v.join("index.md"), "# My index\n").unwrap();
    std::fs::write(v.join("Tags/foo.md"), "# Foo note\n").unwrap();
    std::fs::write(v.join("Search/x.md"), "# X note\n").unwrap();
    export_to(&v, &s);
    let read = |p: &str| std::fs::read_to_string(s.join(p)).unwrap();
    assert!(read("index-2.html").contains("<title>My index</title>"));
    assert!(read("tags-/foo.html").contains("<title>Foo note</title>"));
    assert!(read("search-/x.html").contains("<title>X note</title>"));
    assert!(read("tags/foo.html").contains("<title>#foo</title>"));
    assert!(
        !read("index.html").contains("My index"),
        "the site's entry stays"
    );
    let (_, problems) = check_links(&s);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_link_leads_to_the_note_of_its_name_in_its_own_folder_first() {
    // As in Obsidian (observed on 1.13): of two notes named `Log`, none at
    // the vault's root, a note beside one of them links to that one;
    // elsewhere the shorter path wins. A note at the link's own path (the
    // root's `Home`) wins over one beside the linking note.
    let dir = tempfile::tempdir().unwrap();
    let (v, s) = (dir.path().join("v"), dir.path().join("s"));
    std::fs::create_dir_all(v.join("Cases/Deep")).unwrap();
    std::fs::create_dir_all(v.join("Ops")).unwrap();
    std::fs::write(v.join("Home.md"), "# Root home\n").unwrap();
    std::fs::write(v.join("Cases/Deep/Home.md"), "# Case home\n").unwrap();
    std::fs::write(v.join("Ops/Log.md"), "# Ops log\n").unwrap();
    std::fs::write(v.join("Cases/Deep/Log.md"), "# Case log\n").unwrap();
    std::fs::write(
        v.join("Cases/Deep/Case.md"),
        "# Case\n\n[[Log]] ![[Log]] [[Home]]\n",
    )
    .unwrap();
    std::fs::write(v.join("Cases/Other.md"), "# Other\n\n[[Log]]\n").unwrap();
    export_to(&v, &s);
    let read = |p: &str| std::fs::read_to_string(s.join(p)).unwrap();
    let case = read("cases/deep/case.html");
    assert!(
        case.contains(r#"href="../../cases/deep/log.html">Log"#),
        "{case}"
    );
    assert!(!case.contains(r#"href="../../ops/log.html""#), "{case}");
    assert!(case.contains(r#"href="../../home.html">Home"#), "{case}");
    let other = read("cases/other.html");
    assert!(other.contains(r#"href="../ops/log.html">Log"#), "{other}");
    let log = read("cases/deep/log.html");
    assert!(log.contains("case.html"), "the backlink: {log}");
}

#[test]
fn a_link_to_a_renamed_note_leads_to_its_new_page_and_heading() {
    // The redirect the build leaves at a renamed note's old path: links
    // written before the rename reach the new page, its heading and its
    // backlinks; the redirect's own page stays for addresses kept outside.
    let dir = tempfile::tempdir().unwrap();
    let (v, s) = (dir.path().join("v"), dir.path().join("s"));
    std::fs::create_dir_all(v.join("Rules")).unwrap();
    let redirect = |to: &str| {
        format!(
            "---\ntype: \"redirect\"\nredirect: \"[[{to}]]\"\n---\n\n# Old\n\n> [!info] Renamed\n> This note is now [[{to}]].\n"
        )
    };
    std::fs::write(v.join("Rules/Old.md"), redirect("New")).unwrap();
    std::fs::write(v.join("Rules/New.md"), "# New\n\n## Rule\n\nx\n").unwrap();
    std::fs::write(v.join("Rules/Stale.md"), redirect("Gone")).unwrap();
    std::fs::write(v.join("Rules/First.md"), redirect("Old")).unwrap();
    std::fs::write(
        v.join("Case.md"),
        "# Case\n\n[[Old#Rule]] [old](Rules/Old.md) [[Stale]] [[First]]\n",
    )
    .unwrap();
    export_to(&v, &s);
    let read = |p: &str| std::fs::read_to_string(s.join(p)).unwrap();
    let case = read("case.html");
    assert!(
        case.contains(r#"href="rules/new.html#rule">Old &gt; Rule"#),
        "{case}"
    );
    assert!(case.contains(r#"href="rules/new.html">old"#), "{case}");
    assert!(
        case.contains(r#"href="rules/stale.html">Stale"#),
        "its note is gone: {case}"
    );
    assert!(
        case.contains(r#"href="rules/first.html">First"#),
        "one step only: {case}"
    );
    assert!(read("rules/new.html").contains("case.html"), "the backlink");
    assert!(read("rules/old.html").contains(r#"href="../rules/new.html">New"#));
}

#[test]
fn a_rules_batch_loop_or_regex_in_its_description_hides_nothing() {
    // `%%` opens an Obsidian comment that hides everything up to the next
    // one (code aside), `^[` an inline footnote: in a description they are
    // the rule author's text, and the rest of the note must still show.
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("loop.yml"),
        "title: Ping Sweep Loop\nid: 66666666-0000-0000-0000-000000000001\nstatus: test\n\
         description: Batch loops such as for %%i in (1,1,254) do ping, names matching ^[a-z]+\n\
         logsource:\n  product: windows\n  category: process_creation\n\
         detection:\n  sel:\n    CommandLine|contains: 'ping -n 1'\n  condition: sel\n\
         falsepositives:\n  - Commands like ^cmd\n\
         level: low\ntags:\n  - attack.t1059.006\n",
    )
    .unwrap();
    let (dir, _, _) = common::build_into(BuildConfig {
        sigma: vec![rules.path().to_path_buf()],
        ..Default::default()
    });
    let site = dir.path().join("site");
    export_to(&dir.path().join("vault"), &site);
    let page = std::fs::read_to_string(site.join("detection-rules/ping-sweep-loop.html")).unwrap();
    assert!(
        page.contains("for %%i in (1,1,254) do ping, names matching ^[a-z]+"),
        "{page}"
    );
    assert!(
        page.contains(">ATT&amp;CK</h2>") && page.contains("CommandLine|contains"),
        "{page}"
    );
    assert!(!page.contains("footnote-reference"), "{page}");
    // ` ^cmd` ending a list item is a block id to Obsidian, which hides it.
    assert!(page.contains("Commands like ^cmd"), "{page}");
    assert!(!page.contains("block-id"), "{page}");
}

#[test]
fn files_the_site_does_not_publish_are_named_never_broken() {
    // Canvases, Bases and other files of the vault have no page: a note
    // naming one shows its name; a file that is nowhere stays unresolved.
    let dir = tempfile::tempdir().unwrap();
    let (v, s) = (dir.path().join("v"), dir.path().join("s"));
    std::fs::create_dir_all(v.join("Bases")).unwrap();
    std::fs::write(v.join("Bases/Rules.base"), "views: []\n").unwrap();
    std::fs::write(v.join("Board.canvas"), "{}").unwrap();
    std::fs::write(v.join("iocs.csv"), "a,b\n").unwrap();
    std::fs::write(v.join("flow.svg"), "<svg/>").unwrap();
    std::fs::write(
        v.join("Dash.md"),
        "# Dash\n\n![[Rules.base]]\n\n[[Board.canvas]] [[iocs.csv]] [[gone.csv]]\n",
    )
    .unwrap();
    // The same files named by Markdown links and images, as Obsidian writes
    // them with wikilinks off: no dead href or src either.
    std::fs::create_dir_all(v.join("Hunts")).unwrap();
    std::fs::write(
        v.join("Hunts/Flow.md"),
        "# Flow\n\n![the flow](../flow.svg) [board](<../Board.canvas>) [iocs](../iocs.csv) \
         [lost](lost.csv) ![lost image](lost.svg) [web](//example.org/a.png)\n",
    )
    .unwrap();
    let summary = export_to(&v, &s);
    let mut unresolved = summary.unresolved.clone();
    unresolved.sort();
    let at = |n: &str, t: &str| (n.to_string(), t.to_string());
    assert_eq!(
        unresolved,
        [
            at("Dash", "gone.csv"),
            at("Hunts/Flow", "lost.csv"),
            at("Hunts/Flow", "lost.svg")
        ]
    );
    let mut unpublished = summary.unpublished.clone();
    unpublished.sort();
    assert_eq!(
        unpublished,
        [
            at("Dash", "Board.canvas"),
            at("Dash", "Rules.base"),
            at("Dash", "iocs.csv"),
            at("Hunts/Flow", "Board.canvas"),
            at("Hunts/Flow", "flow.svg"),
            at("Hunts/Flow", "iocs.csv")
        ],
        "said, not dropped silently"
    );
    let page = std::fs::read_to_string(s.join("dash.html")).unwrap();
    for named in ["Rules.base", "Board.canvas", "iocs.csv"] {
        assert!(page.contains(&format!("<span>{named}</span>")), "{page}");
    }
    assert!(
        page.contains(r#"<span class="unresolved" title="unresolved: gone.csv">"#),
        "{page}"
    );
    let flow = std::fs::read_to_string(s.join("hunts/flow.html")).unwrap();
    for named in ["the flow", "board", "iocs"] {
        assert!(flow.contains(&format!("<span>{named}</span>")), "{flow}");
    }
    assert!(
        flow.contains(r#"title="unresolved: lost.csv">lost</span>"#),
        "{flow}"
    );
    assert!(
        flow.contains(r#"<span class="unresolved">lost image</span>"#),
        "{flow}"
    );
    assert!(flow.contains(r#"href="//example.org/a.png""#), "{flow}");
    assert!(!flow.contains("<img"), "{flow}");
    assert!(!s.join("files").exists(), "nothing of them is published");
    let (_, problems) = check_links(&s);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_markdown_image_of_a_pdf_is_a_link_and_the_layers_are_published() {
    // Obsidian shows `![r](report.pdf)` in a viewer; the site links it. The
    // Navigator layers are published where the notes link them, from any
    // folder.
    let dir = tempfile::tempdir().unwrap();
    let (v, s) = (dir.path().join("v"), dir.path().join("s"));
    std::fs::create_dir_all(v.join("Navigator")).unwrap();
    std::fs::create_dir_all(v.join("Hunts")).unwrap();
    std::fs::write(v.join("Navigator/enterprise-attack-coverage.json"), "{}").unwrap();
    std::fs::write(v.join("Navigator/notes.json"), "{}").unwrap();
    std::fs::write(v.join("report.pdf"), "%PDF").unwrap();
    std::fs::write(
        v.join("Hunts/Log.md"),
        "# Log\n\n![the report](../report.pdf) [layer](../Navigator/enterprise-attack-coverage.json)\n",
    )
    .unwrap();
    let summary = export_to(&v, &s);
    assert!(summary.unresolved.is_empty() && summary.unpublished.is_empty());
    let page = std::fs::read_to_string(s.join("hunts/log.html")).unwrap();
    assert!(
        page.contains(r#"<a href="../files/report.pdf">the report</a>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<a href="../Navigator/enterprise-attack-coverage.json">layer</a>"#),
        "{page}"
    );
    for layer in ["enterprise-attack-coverage.json", "notes.json"] {
        assert!(s.join("Navigator").join(layer).is_file(), "{layer}");
    }
    let (_, problems) = check_links(&s);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn links_in_properties_are_links_one_or_a_list() {
    // `related: ["[[A]]", "[[B#Part]]"]` links as a body does: backlinks on
    // both pages, the one beside the note first, and a missing note counted.
    let dir = tempfile::tempdir().unwrap();
    let (v, s) = (dir.path().join("v"), dir.path().join("s"));
    std::fs::create_dir_all(v.join("Cases")).unwrap();
    std::fs::write(v.join("A.md"), "# A\n").unwrap();
    std::fs::write(v.join("B.md"), "# B\n\n## Part\n").unwrap();
    std::fs::create_dir_all(v.join("Team")).unwrap();
    std::fs::write(v.join("Team/Owner.md"), "# Owner elsewhere\n").unwrap();
    std::fs::write(v.join("Cases/Owner.md"), "# Owner beside\n").unwrap();
    std::fs::write(
        v.join("Cases/Case.md"),
        "---\nrelated:\n  - \"[[A]]\"\n  - \"[[B#Part|the part]]\"\n  - \"[[Gone]]\"\nowner: \"[[Owner]]\"\n---\n# Case\n",
    )
    .unwrap();
    let summary = export_to(&v, &s);
    assert_eq!(
        summary.unresolved,
        [("Cases/Case".to_string(), "Gone".to_string())]
    );
    let backlinked = |page: &str| {
        let html = std::fs::read_to_string(s.join(page)).unwrap();
        html.split("class=\"backlinks\"")
            .nth(1)
            .is_some_and(|b| b.contains("case.html\">Case</a>"))
    };
    assert!(backlinked("a.html"));
    assert!(backlinked("b.html"));
    assert!(backlinked("cases/owner.html"));
    assert!(!backlinked("team/owner.html"));
    let case = std::fs::read_to_string(s.join("cases/case.html")).unwrap();
    assert!(
        case.contains("<a href=\"../b.html#part\">the part</a>"),
        "{case}"
    );
}

#[test]
fn tags_written_as_one_text_are_tags() {
    // `tags: ioc, apt29` (as older notes and other tools write them) and
    // `#` before a listed tag are read as Obsidian reads them.
    let dir = tempfile::tempdir().unwrap();
    let (v, s) = (dir.path().join("v"), dir.path().join("s"));
    std::fs::create_dir_all(&v).unwrap();
    std::fs::write(v.join("A.md"), "---\ntags: ioc, apt29 lateral\n---\n# A\n").unwrap();
    std::fs::write(
        v.join("B.md"),
        "---\ntags:\n  - \"#hunt\"\naliases: Bee one\n---\n# B\n",
    )
    .unwrap();
    // Properties after a byte order mark are properties, not a heading.
    std::fs::write(v.join("C.md"), "\u{feff}---\ntags: [marked]\n---\n# C\n").unwrap();
    export_to(&v, &s);
    let index = std::fs::read_to_string(s.join("search-index.js")).unwrap();
    assert!(
        index.contains(r#""a":["Bee one"]"#),
        "an alias alone: {index}"
    );
    let c = std::fs::read_to_string(s.join("c.html")).unwrap();
    assert!(!c.contains("tags: [marked]"), "{c}");
    for tag in ["ioc", "apt29", "lateral", "hunt", "marked"] {
        assert!(s.join(format!("tags/{tag}.html")).is_file(), "{tag}");
    }
    let a = std::fs::read_to_string(s.join("a.html")).unwrap();
    assert!(
        a.contains(r#"<a class="tag" href="tags/apt29.html">#apt29</a>"#),
        "{a}"
    );
}

#[test]
fn a_notes_css_classes_reach_its_page_as_obsidian_gives_them_its_pane() {
    let dir = tempfile::tempdir().unwrap();
    let (v, s) = (dir.path().join("v"), dir.path().join("s"));
    std::fs::create_dir_all(&v).unwrap();
    std::fs::write(
        v.join("Wide.md"),
        "---\ncssclasses:\n  - av-wide\n  - \"two words\"\n  - 'x\"><script>'\n  - my_own-1\n---\n# Wide\n",
    )
    .unwrap();
    std::fs::write(v.join("Old.md"), "---\ncssclass: av-wide\n---\n# Old\n").unwrap();
    std::fs::write(v.join("Plain.md"), "# Plain\n").unwrap();
    export_to(&v, &s);
    let page = |name: &str| std::fs::read_to_string(s.join(name)).unwrap();
    assert!(
        page("wide.html").contains(r#"<body data-root="" class="av-wide my_own-1">"#),
        "what could not be one class is left out"
    );
    assert!(page("old.html").contains(r#"<body data-root="" class="av-wide">"#));
    assert!(page("plain.html").contains("<body data-root=\"\">"));
    // The vault's matrices and coverage notes are wide on the site too.
    let demo = dir.path().join("demo");
    copy_demo_vault(&demo);
    let site = dir.path().join("demo-site");
    export_to(&demo, &site);
    let coverage = std::fs::read_to_string(site.join("coverage-enterprise-attack.html")).unwrap();
    assert!(coverage.contains(r#"class="av-wide""#), "{coverage}");
}

#[test]
fn a_link_naming_an_alias_stays_unresolved_and_names_the_note() {
    // As in Obsidian, which resolves links by note name only, and as
    // `check` reports it.
    let dir = tempfile::tempdir().unwrap();
    let (v, s) = (dir.path().join("v"), dir.path().join("s"));
    std::fs::create_dir_all(v.join("Techniques")).unwrap();
    std::fs::write(
        v.join("Techniques/T1059.006 Python.md"),
        "---\naliases:\n  - T1059.006\n---\n# Python\n",
    )
    .unwrap();
    std::fs::write(v.join("Hunt.md"), "# Hunt\n\n[[t1059.006]] [[Gone]]\n").unwrap();
    let summary = export_to(&v, &s);
    let mut unresolved: Vec<&str> = summary.unresolved.iter().map(|(_, t)| t.as_str()).collect();
    unresolved.sort();
    assert_eq!(unresolved, ["Gone", "t1059.006"]);
    assert_eq!(
        summary.aliases.get("t1059.006").map(String::as_str),
        Some("T1059.006 Python")
    );
    assert_eq!(summary.aliases.len(), 1);
    let page = std::fs::read_to_string(s.join("hunt.html")).unwrap();
    assert!(page.contains(r#"title="unresolved: t1059.006""#), "{page}");
}

#[cfg(unix)]
#[test]
fn an_attachment_named_in_no_utf8_is_still_published() {
    // Its name reads with a replacement character; its file is the one on
    // disk, not one of that spelling.
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let (v, s) = (dir.path().join("v"), dir.path().join("s"));
    std::fs::create_dir_all(&v).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"shot\xff.png");
    std::fs::write(v.join(name), b"png bytes").unwrap();
    std::fs::write(v.join("Log.md"), "# Log\n\n![[shot\u{fffd}.png]]\n").unwrap();
    let diags = Diagnostics::new();
    let cfg = ExportConfig {
        vault: v.clone(),
        out: s.clone(),
        base_url: None,
        templates: None,
        no_wait: false,
    };
    export(&cfg, &diags).expect("export succeeds");
    let said: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
    assert!(said.is_empty(), "{said:?}");
    let published: Vec<_> = std::fs::read_dir(s.join("files")).unwrap().collect();
    assert_eq!(published.len(), 1);
    let file = published[0].as_ref().unwrap().path();
    assert_eq!(std::fs::read(file).unwrap(), b"png bytes");
}
