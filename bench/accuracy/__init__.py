"""An evaluation world for linkkeeper built without its assumptions (issue 19, item 7).

`world` generates the blog, today's web and the archive's captures with the truth; `export` writes the blog
as a Blogger export; `webserver` and `wayback` serve the web and a Wayback Machine on loopback (`serve` runs
them in a process); `grade` scores what the product produced. Nothing here imports linkkeeper.
"""
