"""Build manifest.json for the real-page corpus: each page's original URL, site, language, title, and the lead
a news-clipping blog post would reproduce, as an independent extractor (trafilatura) reads the page.

    python tests/data/real-pages/build_manifest.py                   # manifest.json from the vendored pages
    python tests/data/real-pages/build_manifest.py --vendor GIT_DIR  # first copy the pages out of a git
                                                                     # directory of adbar/trafilatura at COMMIT

The lead is deliberately NOT made with anything from linkkeeper: the point of the corpus is to test
linkkeeper's page-text extraction and drift test against text someone else extracted. Paragraphs are
trafilatura's own lines, unchanged; only which of them form the lead is chosen here (LEAD RULE below).

Needs the test extra (`pip install -e '.[test]'`), which brings trafilatura.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"

SOURCE_REPO = "adbar/trafilatura"
SOURCE_COMMIT = "e90b0ef51ab026fdb905fb6c5b3c84dd3d784fd5"
SOURCE_DIR = "tests/cache"

# (file in SOURCE_DIR, original URL as trafilatura's tests/realworld_tests.py MOCK_PAGES gives it, language).
# Chosen from the cache: article pages (news, magazines, blogs, an institution's explainer) of 10-400 KB whose
# extracted text has a lead; product pages, link lists and pages whose extraction is boilerplate are left out
# (README.md says which and why).
PAGES: list[tuple[str, str, str]] = [
    # English
    ("blog.python.org.html", "http://blog.python.org/2016/12/python-360-is-now-available.html", "en"),
    ("blog.wordpress.com.diverse.html", "https://en.blog.wordpress.com/2019/06/19/want-to-see-a-more-diverse-wordpress-contributor-community-so-do-we/", "en"),
    ("boingboing.net.millenials.html", "https://boingboing.net/2013/07/19/hating-millennials-the-preju.html", "en"),
    ("caktusgroup.com.django.html", "https://www.caktusgroup.com/blog/2015/06/08/testing-client-side-applications-django-post-mortem/", "en"),
    ("dw.com.colonial.html", "https://www.dw.com/en/berlin-confronts-germanys-colonial-past-with-new-initiative/a-52060881", "en"),
    ("dw.com.uncork.html", "https://www.dw.com/en/uncork-the-mystery-of-germanys-fr%C3%BChburgunder/a-16863843", "en"),
    ("github.blog.spiceland.html", "https://github.blog/2019-03-29-leader-spotlight-erin-spiceland/", "en"),
    ("gregoryszorc.com.python3.html", "https://gregoryszorc.com/blog/2020/01/13/mercurial%27s-journey-to-and-reflections-on-python-3/", "en"),
    ("kulu-media.com.meta-outage.html", "https://kulu-media.com/meta-outage-hits-facebook-instagram-and-messenger/", "en"),
    ("lemire.me.json.html", "https://lemire.me/blog/2019/08/02/json-parsing-simdjson-vs-json-for-modern-c/", "en"),
    ("mercurynews.com.2023.01.16.letters-1119.html", "https://www.mercurynews.com/2023/01/16/letters-1119/", "en"),
    ("nationalgeographic.co.uk.goats.html", "https://www.nationalgeographic.co.uk/environment-and-conservation/2020/01/ravenous-wild-goats-ruled-island-over-century-now-its-being", "en"),
    ("nature.com.telescope.html", "https://www.nature.com/articles/d41586-019-02790-3", "en"),
    ("phys.org.tool.html", "https://phys.org/news/2019-10-flint-flake-tool-partially-birch.html", "en"),
    ("reuters.com.parasite.html", "https://www.reuters.com/article/us-awards-sag/parasite-scores-upset-at-sag-awards-boosting-oscar-chances-idUSKBN1ZI0EH", "en"),
    ("salon.com.emissions.html", "https://www.salon.com/2020/01/10/despite-everything-u-s-emissions-dipped-in-2019_partner/", "en"),
    ("stackoverflow.com.rust.html", "https://stackoverflow.blog/2020/01/20/what-is-rust-and-why-is-it-so-popular/", "en"),
    ("theverge.com.ios13.html", "https://www.theverge.com/2019/7/3/20680681/ios-13-beta-3-facetime-attention-correction-eye-contact", "en"),
    ("threatpost.com.android.html", "https://threatpost.com/android-ransomware-spreads-via-sex-simulation-game-links-on-reddit-sms/146774/", "en"),
    ("vancouversun.com.microsoft.html", "https://vancouversun.com/technology/microsoft-moves-to-erase-its-carbon-footprint-from-the-atmosphere-in-climate-push/wcm/76e426d9-56de-40ad-9504-18d5101013d2", "en"),
    ("vice.com.amazon.html", "https://www.vice.com/en_uk/article/d3avvm/the-amazon-is-on-fire-and-the-smoke-can-be-seen-from-space", "en"),
    ("wikimediafoundation.org.turkey.html", "https://wikimediafoundation.org/news/2020/01/15/access-to-wikipedia-restored-in-turkey-after-more-than-two-and-a-half-years/", "en"),
    # German
    ("adac.de.kindersitze.html", "https://www.adac.de/rund-ums-fahrzeug/tests/kindersicherheit/kindersitztest-2018/", "de"),
    ("basicthinking.de.tweets.html", "https://www.basicthinking.de/blog/2018/12/05/erfolgreiche-tweets-zutaten/", "de"),
    ("bmjv.de.konsum.html", "https://www.bmjv.de/DE/Verbraucherportal/KonsumImAlltag/TransparenzPreisanpassung/TransparenzPreisanpassung_node.html", "de"),
    ("brigitte.de.ikigai.html", "https://www.brigitte.de/liebe/persoenlichkeit/ikigai-macht-dich-sofort-gluecklicher--10972896.html", "de"),
    ("cdu-fraktion-erfurt.de.waldorfschule.html", "http://www.cdu-fraktion-erfurt.de/inhalte/aktuelles/entwicklung-der-waldorfschule-ermoeglicht/index.html", "de"),
    ("computerbase.de.htc.html", "https://www.computerbase.de/2007-06/htc-touch-bald-bei-o2-als-xda-nova/", "de"),
    ("demokratiewebstatt.at.luft.html", "https://www.demokratiewebstatt.at/thema/thema-umwelt-und-klima/woher-kommt-die-dicke-luft", "de"),
    ("futurezone.at.lyft.html", "https://futurezone.at/digital-life/uber-konkurrent-lyft-startet-mit-waymo-robotertaxis-in-usa/400487461", "de"),
    ("heise.de.lithium.html", "https://www.heise.de/newsticker/meldung/Lithium-aus-dem-Schredder-4451133.html", "de"),
    ("internet-law.de.pseudonymen.html", "http://www.internet-law.de/2011/07/verstost-der-ausschluss-von-pseudonymen-bei-google-gegen-deutsches-recht.html", "de"),
    ("landwirt.com.sensortechnik.html", "https://www.landwirt.com/Precision-Farming-Moderne-Sensortechnik-im-Kuhstall,,4229,,Bericht.html", "de"),
    ("meedia.de.freenet.html", "https://meedia.de/2016/03/08/einstieg-ins-tv-geschaeft-wie-freenet-privatkunden-fuer-antennen-tv-in-hd-qualitaet-gewinnen-will/", "de"),
    ("moritz-meyer.net.vreni.html", "https://moritz-meyer.net/blog/vreni-frost-instagram-abmahnung/", "de"),
    ("ndr.de.podcastcoronavirus140.html", "https://www.ndr.de/nachrichten/info/16-Coronavirus-Update-Wir-brauchen-Abkuerzungen-bei-der-Impfstoffzulassung,podcastcoronavirus140.html", "de"),
    ("netzpolitik.org.abmahnungen.html", "https://netzpolitik.org/2016/die-cider-connection-abmahnungen-gegen-nutzer-von-creative-commons-bildern/", "de"),
    ("plentylife.blogspot.pamela-reif.html", "https://plentylife.blogspot.com/2017/05/strong-beautiful-pamela-reif-rezension.html", "de"),
    ("rnz.de.witzel.html", "https://www.rnz.de/nachrichten_artikel,-zz-dpa-Schlaglichter-Frank-Witzel-erhaelt-Deutschen-Buchpreis-2015-_arid,133484.html", "de"),
    ("spektrum.de.engelbart.html", "https://scilogs.spektrum.de/engelbart-galaxis/die-ablehnung-der-gendersprache/", "de"),
    ("spiegel.de.albtraum.html", "https://www.spiegel.de/spiegel/print/d-161500790.html", "de"),
    ("spreeblick.com.habeck.html", "http://www.spreeblick.com/blog/2006/07/29/aus-aus-alles-vorbei-habeck-macht-die-stahnke/", "de"),
    ("sueddeutsche.de.flixtrain.html", "https://www.sueddeutsche.de/wirtschaft/bahn-flixbus-flixtrain-deutschlandtakt-fernverkehr-1.4445845", "de"),
    ("wehranlage-horka.de.887.html", "http://www.wehranlage-horka.de/veranstaltung/887/", "de"),
    ("zeit.de.zugverkehr.html", "https://www.zeit.de/mobilitaet/2020-01/zugverkehr-christian-lindner-hochgeschwindigkeitsstrecke-eu-kommission", "de"),
    # French
    ("franceculture.fr.idees.html", "https://www.franceculture.fr/emissions/le-journal-des-idees/le-journal-des-idees-emission-du-mardi-14-janvier-2020", "fr"),
    ("laviedesidees.fr.evaluation.html", "https://laviedesidees.fr/L-evaluation-et-les-listes-de.html", "fr"),
    ("psl.eu.luniversite.html", "https://www.psl.eu/actualites/luniversite-psl-quand-les-grandes-ecoles-font-universite", "fr"),
    ("sauvonsluniversite.com.spip.html", "http://www.sauvonsluniversite.fr/spip.php?article8532", "fr"),
    ("soundofscience.fr.1927.html", "https://www.soundofscience.fr/1927", "fr"),
]

# LEAD RULE: what a clipping blog reproduces is the article's opening: the first 1-3 paragraphs, 60-250
# words. Paragraphs are the non-empty lines of trafilatura's plain-text output, kept exactly as it writes
# them. The lead starts at the first paragraph of at least START_WORDS words that is no list item or table
# row (headlines, bylines, datelines and captions are shorter), and takes the paragraphs that follow it until
# it holds ENOUGH_WORDS words, at most MAX_PARAGRAPHS of them, never passing MAX_WORDS. When that gives fewer
# than MIN_WORDS words (a short paragraph followed by a long one), the next long paragraph is tried as start.
START_WORDS = 20
ENOUGH_WORDS = 60
MIN_WORDS = 50
MAX_WORDS = 250
MAX_PARAGRAPHS = 3

_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def declared_charset(page: bytes) -> str | None:
    """The charset the page declares in its <head> (<meta charset> or <meta http-equiv=Content-Type>)."""
    head_end = page.lower().find(b"</head")
    m = _CHARSET.search(page[:head_end if head_end > 0 else 65536])
    return m.group(1).decode("ascii").lower() if m else None


def lead_of(text: str) -> list[str] | None:
    paragraphs = [line for line in text.split("\n") if line.strip()]
    for start, first in enumerate(paragraphs):
        if len(first.split()) < START_WORDS or first.lstrip().startswith(("- ", "|")):
            continue
        lead: list[str] = []
        words = 0
        for paragraph in paragraphs[start:start + MAX_PARAGRAPHS]:
            n = len(paragraph.split())
            if lead and (words >= ENOUGH_WORDS or words + n > MAX_WORDS):
                break
            lead.append(paragraph)
            words += n
        if MIN_WORDS <= words <= MAX_WORDS:
            return lead
    return None


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no file name and no time stamp: the same page always gives the same file."""
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return out.getvalue()


def vendor(git_dir: str) -> None:
    for name, _url, _lang in PAGES:
        page = subprocess.run(["git", "--git-dir", git_dir, "show", f"{SOURCE_COMMIT}:{SOURCE_DIR}/{name}"],
                              check=True, capture_output=True).stdout
        (HERE / f"{name}.gz").write_bytes(gzip_bytes(page))


def build() -> dict:
    import trafilatura
    from trafilatura.metadata import extract_metadata

    entries = []
    for name, url, language in PAGES:
        page = gzip.decompress((HERE / f"{name}.gz").read_bytes())
        text = trafilatura.extract(page, url=url, include_comments=False, include_tables=False)
        lead = lead_of(text or "")
        if lead is None:
            sys.exit(f"{name}: trafilatura's text has no lead by the rule; choose another page")
        meta = extract_metadata(trafilatura.load_html(page), default_url=url)
        entries.append({
            "id": name.removesuffix(".html"),
            "file": f"{name}.gz",
            "source_path": f"{SOURCE_DIR}/{name}",
            "url": url,
            "site": urlsplit(url).hostname,
            "language": language,
            "charset": declared_charset(page),
            "bytes": len(page),
            "sha256": hashlib.sha256(page).hexdigest(),
            "title": meta.title if meta and meta.title else None,
            "date": meta.date if meta and meta.date else None,
            "author": meta.author if meta and meta.author else None,
            "sitename": meta.sitename if meta and meta.sitename else None,
            "lead": lead,
            "lead_words": sum(len(p.split()) for p in lead),
        })
    return {
        "about": "Real web pages and the leads a clipping blog would reproduce from them; see README.md.",
        "source": {"repository": SOURCE_REPO, "commit": SOURCE_COMMIT, "path": SOURCE_DIR,
                   "licence": "Apache-2.0 (the repository); page contents belong to their publishers"},
        "extractor": f"trafilatura {trafilatura.__version__}",
        "extract_options": {"include_comments": False, "include_tables": False, "output_format": "txt"},
        "lead_rule": {"start_words": START_WORDS, "enough_words": ENOUGH_WORDS, "min_words": MIN_WORDS,
                      "max_words": MAX_WORDS, "max_paragraphs": MAX_PARAGRAPHS},
        "pages": entries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vendor", metavar="GIT_DIR",
                        help=f"copy the pages from this git directory of {SOURCE_REPO} (at {SOURCE_COMMIT[:12]}) first")
    args = parser.parse_args()
    if args.vendor:
        vendor(args.vendor)
    manifest = build()
    MANIFEST.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    pages = manifest["pages"]
    print(f"{MANIFEST.name}: {len(pages)} pages, {len({p['site'] for p in pages})} sites, "
          f"languages {sorted({p['language'] for p in pages})}, {manifest['extractor']}")


if __name__ == "__main__":
    main()
