"""The blog as a Blogger "Back up content" export in the legacy Atom format, as Blogger writes it: a `<feed>`
whose entries are typed by `kind#` categories (template, settings, posts, comments, drafts; not in date
order), single-quoted attributes, `<content type='html'>` holding escaped HTML, `<link rel='alternate'>` for
published posts only, and Eastern times with their offsets (`2012-10-03T09:05:00.000-04:00`).

Owned here: the post HTML (the reproduced lead with any links the article carried, then the trailer
`Original Article` / `Source:` / `Author:`) and the XML around it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from .timeutil import blogger_time
from .world import BLOG_HOST, Post, World

KIND = "http://schemas.google.com/g/2005#kind"
KIND_TERM = "http://schemas.google.com/blogger/2008/kind#"


def post_html(world: World, p: Post) -> str:
    rng = random.Random(f"html:{p.pid}")
    text = world.article_text(p.aid)
    paras = list(text.lead(p.version))
    # Links the article carried in its lead stay in the copied text.
    split = [para.split(" ") for para in paras]
    taken: set[tuple[int, int]] = set()
    for ob in p.outbound:
        for _attempt in range(50):
            i = rng.randrange(len(split))
            j = rng.randrange(max(1, len(split[i]) - 3))
            k = min(len(split[i]), j + rng.randint(1, 3))
            span = {(i, x) for x in range(j - 1, k + 1)}  # a word apart from any other link
            if not span & taken:
                break
        taken |= span
        split[i][j] = f'<a href="{_attr(ob.url)}">' + split[i][j]
        split[i][k - 1] = split[i][k - 1] + "</a>"
    paras = [" ".join(words) for words in split]
    body = "<br /><br />".join(paras) if rng.random() < 0.5 else "".join(
        f'<div style="text-align: justify;">{para}</div><div style="text-align: justify;"><br /></div>' for para in paras)
    href = "" if p.href is None else f' href="{_attr(p.href)}"'
    anchor = f"<a{href}>Original Article</a>"
    if p.trailer_style == "bold":
        anchor = f"<b>{anchor}</b>"
    elif p.trailer_style == "span":
        anchor = f'<span style="font-size: small;">{anchor}</span>'
    elif p.trailer_style == "target":
        anchor = f'<a{href} target="_blank">Original Article</a>'
    return f"{body}<br /><br />{anchor}<br />Source: {_text(p.spelling)}<br />Author: {_text(p.authors)}"


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;")


def write_export(world: World, path: str) -> None:
    rng = random.Random(f"export:{world.seed}")
    blog = world.blog_id
    last = max(p.updated for p in world.posts)
    entries: list[str] = [_template(blog, last)]
    entries += [_settings(blog, name, value, last) for name, value in (
        ("BLOG_NAME", "Democracy Gone Astray"), ("BLOG_DESCRIPTION", "Democracy, the Harper government, "
         "and the news of the day."), ("BLOG_PUBLISHING_MODE", "PUBLISH_MODE_BLOGSPOT"),
        ("BLOG_SUBDOMAIN", "democracyastray"), ("BLOG_LANGUAGE", "en"), ("BLOG_COMMENT_FORMAT", "BLOGGER"))]
    posts = list(world.posts)
    rng.shuffle(posts)  # Blogger does not write entries in date order
    for p in posts:
        p.html = post_html(world, p)
        entries.append(_post(blog, p))
        if rng.random() < 0.05:
            entries.append(_comment(blog, p, rng))
    for i in range(3):  # drafts: no alternate link, app:draft yes
        local = datetime(2013, 3, 1) + timedelta(days=97 * i)
        entries.append(_draft(blog, i, local))
    head = ("<?xml version='1.0' encoding='UTF-8'?><?xml-stylesheet href=\"http://www.blogger.com/styles/atom.css\" "
            "type=\"text/css\"?><feed xmlns='http://www.w3.org/2005/Atom' "
            "xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/' xmlns:gd='http://schemas.google.com/g/2005' "
            "xmlns:thr='http://purl.org/syndication/thread/1.0' xmlns:georss='http://www.georss.org/georss'>"
            f"<id>tag:blogger.com,1999:blog-{blog}.archive</id><updated>{blogger_time(last)}</updated>"
            "<title type='text'>Democracy Gone Astray</title>"
            f"<link rel='http://schemas.google.com/g/2005#feed' type='application/atom+xml' href='http://{BLOG_HOST}/feeds/archive'/>"
            f"<link rel='self' type='application/atom+xml' href='http://www.blogger.com/feeds/{blog}/archive'/>"
            f"<link rel='alternate' type='text/html' href='http://{BLOG_HOST}/'/>"
            "<author><name>Anonymous</name><uri>http://www.blogger.com/profile/04512345678901234567</uri>"
            "<email>noreply@blogger.com</email></author><generator version='7.00' uri='http://www.blogger.com'>Blogger</generator>")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(head)
        for e in entries:
            fh.write(e)
        fh.write("</feed>")


def _cat(kind: str) -> str:
    return f"<category scheme='{KIND}' term='{KIND_TERM}{kind}'/>"


def _author() -> str:
    return ("<author><name>Anonymous</name><uri>http://www.blogger.com/profile/04512345678901234567</uri>"
            "<email>noreply@blogger.com</email><gd:image rel='http://schemas.google.com/g/2005#thumbnail' "
            "width='16' height='16' src='http://img1.blogblog.com/img/b16-rounded.gif'/></author>")


def _template(blog: str, when: datetime) -> str:
    # The template is full of things that are not URLs (data: expressions, javascript:).
    template = ("<?xml version=\"1.0\" encoding=\"UTF-8\" ?><html><head><title><data:blog.pageTitle/></title>"
                "</head><body><a expr:href='data:blog.homepageUrl'>Home</a><a href='javascript:void(0)'>Menu</a>"
                "<b:section id='main'><b:widget id='Blog1' type='Blog'/></b:section></body></html>")
    return (f"<entry><id>tag:blogger.com,1999:blog-{blog}.layout</id><published>{blogger_time(when)}</published>"
            f"<updated>{blogger_time(when)}</updated>{_cat('template')}<title type='text'>Template: Democracy "
            f"Gone Astray</title><content type='text'>{escape(template)}</content>"
            f"<link rel='edit' type='application/atom+xml' href='http://www.blogger.com/feeds/{blog}/template'/>"
            f"{_author()}</entry>")


def _settings(blog: str, name: str, value: str, when: datetime) -> str:
    return (f"<entry><id>tag:blogger.com,1999:blog-{blog}.settings.{name}</id><published>{blogger_time(when)}"
            f"</published><updated>{blogger_time(when)}</updated>{_cat('settings')}<title type='text'>{name}"
            f"</title><content type='text'>{escape(value)}</content>{_author()}</entry>")


def _post(blog: str, p: Post) -> str:
    post_id = p.pid.rsplit("-", 1)[1]
    labels = "".join(f"<category scheme='http://www.blogger.com/atom/ns#' term={quoteattr(label)}/>" for label in p.labels)
    return (f"<entry><id>{p.pid}</id><published>{blogger_time(p.local)}</published>"
            f"<updated>{blogger_time(p.updated)}</updated>{_cat('post')}{labels}"
            f"<title type='text'>{escape(p.title)}</title><content type='html'>{escape(p.html)}</content>"
            f"<link rel='replies' type='application/atom+xml' href='http://{BLOG_HOST}/feeds/{post_id}/comments/default' title='Post Comments'/>"
            f"<link rel='replies' type='text/html' href='http://www.blogger.com/comment.g?blogID={blog}&amp;postID={post_id}' title='0 Comments'/>"
            f"<link rel='edit' type='application/atom+xml' href='http://www.blogger.com/feeds/{blog}/posts/default/{post_id}'/>"
            f"<link rel='self' type='application/atom+xml' href='http://www.blogger.com/feeds/{blog}/posts/default/{post_id}'/>"
            f"<link rel='alternate' type='text/html' href={quoteattr(p.url)} title={quoteattr(p.title)}/>"
            f"{_author()}<thr:total>0</thr:total></entry>")


def _comment(blog: str, p: Post, rng: random.Random) -> str:
    post_id = p.pid.rsplit("-", 1)[1]
    cid = rng.randint(10**18, 10**19 - 1)
    when = p.local + timedelta(hours=rng.uniform(1, 200))
    text = rng.choice(["Thanks for posting this.", "The link is broken, here is another: http://example.org/x",
                       "Shameful.", "Does anyone have the original source?"])
    return (f"<entry><id>tag:blogger.com,1999:blog-{blog}.post-{cid}</id><published>{blogger_time(when)}</published>"
            f"<updated>{blogger_time(when)}</updated>{_cat('comment')}<title type='text'>{escape(text[:30])}</title>"
            f"<content type='html'>{escape(text)}</content>"
            f"<link rel='alternate' type='text/html' href='{p.url}?showComment={int(when.timestamp() * 1000)}#c{cid}' title=''/>"
            f"{_author()}<thr:in-reply-to href='{p.url}' ref='{p.pid}' "
            f"source='http://www.blogger.com/feeds/{blog}/posts/default/{post_id}' type='text/html'/></entry>")


def _draft(blog: str, i: int, local: datetime) -> str:
    html = ('Draft notes <a href="http://www.example.org/draft-link">a link</a><br /><a href="">Original Article</a>'
            "<br />Source: CBC<br />Author: --")
    return (f"<entry><id>tag:blogger.com,1999:blog-{blog}.post-99{i:017d}</id><published>{blogger_time(local)}</published>"
            f"<updated>{blogger_time(local)}</updated>{_cat('post')}<title type='text'>Draft {i}</title>"
            f"<content type='html'>{escape(html)}</content>"
            f"<link rel='edit' type='application/atom+xml' href='http://www.blogger.com/feeds/{blog}/posts/default/99{i:017d}'/>"
            f"{_author()}<app:control xmlns:app='http://purl.org/atom/app#'><app:draft>yes</app:draft></app:control></entry>")
