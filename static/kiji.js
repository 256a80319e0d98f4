/* kiji: progressive enhancement only; every control works without this. */
(function () {
	"use strict";

	function $(sel, root) { return (root || document).querySelector(sel); }

	var respond = document.getElementById("respond");
	var form = document.getElementById("comment-form");
	var home = respond && respond.parentNode;
	var homeNext = respond && respond.nextSibling;

	function say(text) {
		var p = $(".form-error", respond);
		if (!p) {
			p = document.createElement("p");
			p.className = "form-error";
			p.setAttribute("role", "alert");
			form.parentNode.insertBefore(p, form);
		}
		p.textContent = text;
		p.hidden = !text;
	}

	function replyTo(id, name) {
		var li = document.getElementById("comment-" + id);
		if (!li || !respond) return false;
		$(".comment-box", li).after(respond);
		form.elements.parent.value = id;
		var note = $(".reply-to", respond);
		if (!note) {
			note = document.createElement("p");
			note.className = "reply-to";
			form.insertBefore(note, form.firstChild);
		}
		note.textContent = "";
		note.append(document.documentElement.lang === "en" ? "Replying to " : "返信先: ");
		var b = document.createElement("strong");
		b.textContent = name;
		note.append(b, " ");
		var cancel = document.createElement("a");
		cancel.href = "#respond";
		cancel.className = "cancel-reply";
		cancel.textContent = document.documentElement.lang === "en" ? "Cancel reply" : "返信をやめる";
		cancel.addEventListener("click", function (ev) {
			ev.preventDefault();
			resetReply();
		});
		note.append(cancel);
		form.elements.body.focus();
		return true;
	}

	function resetReply() {
		if (!respond) return;
		home.insertBefore(respond, homeNext);
		form.elements.parent.value = "0";
		var note = $(".reply-to", respond);
		if (note) note.remove();
	}

	document.addEventListener("click", function (ev) {
		var a = ev.target.closest && ev.target.closest("a.reply-link");
		if (!a) return;
		var li = a.closest("li.comment");
		var name = li ? $(".comment-author", li).textContent : "";
		if (replyTo(a.dataset.parent, name)) ev.preventDefault();
	});

	if (form) {
		/* The server enforces a minimum fill time from this stamp. */
		form.addEventListener("focusin", function () {
			if (!form.elements.opened.value)
				form.elements.opened.value = String(Math.floor(Date.now() / 1000));
		});
		form.addEventListener("submit", function (ev) {
			if (!window.fetch || !window.JSON) return;
			ev.preventDefault();
			var id = form.action.match(/\/articles\/(\d+)\/comments/)[1];
			var e = form.elements;
			var parent = e.parent.value;
			var button = $("button[type=submit]", form);
			button.disabled = true;
			fetch("/api/articles/" + id + "/comments", {
				method: "POST",
				credentials: "same-origin",
				headers: { "Content-Type": "application/json", "Accept": "application/json" },
				body: JSON.stringify({
					nickname: e.nickname.value, body: e.body.value,
					parent: Number(parent) || 0, token: e.token.value,
					url: e.url.value, opened: e.opened.value
				})
			}).then(function (res) {
				return res.json().then(function (j) { return { ok: res.ok, j: j }; });
			}).then(function (r) {
				button.disabled = false;
				if (!r.ok) {
					say(r.j.error ? r.j.error.message : "error");
					return;
				}
				say("");
				var tmp = document.createElement("ol");
				tmp.innerHTML = r.j.html; /* rendered and escaped by the server */
				var li = tmp.firstElementChild;
				var parentLi = r.j.parent ? document.getElementById("comment-" + r.j.parent) : null;
				var list;
				if (parentLi) {
					list = $(":scope > ol.children", parentLi);
					if (!list) {
						list = document.createElement("ol");
						list.className = "children";
						parentLi.appendChild(list);
					}
					var depth = Number(parentLi.dataset.depth || 1) + 1;
					li.dataset.depth = String(depth);
				} else {
					list = $("ol.comment-list");
				}
				list.appendChild(li);
				var none = $(".no-comments");
				if (none) none.remove();
				e.body.value = "";
				e.opened.value = "";
				resetReply();
				li.scrollIntoView({ block: "center" });
			}).catch(function () {
				button.disabled = false;
				form.submit(); /* the server answers the plain form too */
			});
		});
	}

	/* Likes: toggle in place; the count comes from the server. */
	document.addEventListener("submit", function (ev) {
		var f = ev.target;
		if (!f.classList || !f.classList.contains("like-form") || !window.fetch) return;
		ev.preventDefault();
		var button = $("button", f);
		button.disabled = true;
		fetch(f.action, {
			method: "POST",
			credentials: "same-origin",
			headers: { "Accept": "application/json" }
		}).then(function (res) {
			if (!res.ok) throw new Error(String(res.status));
			return res.json();
		}).then(function (j) {
			button.disabled = false;
			$(".like-count", f).textContent = String(j.count);
			f.action = "/comments/" + j.id + (j.liked ? "/unlike" : "/like");
			button.setAttribute("aria-pressed", j.liked ? "true" : "false");
		}).catch(function () {
			button.disabled = false;
		});
	});

	/* Popular ranking: one beacon per article view, never cached, so
	 * views count when the page itself came from a cache. The server
	 * dedupes per visitor and day and skips bots; <noscript> has an image
	 * doing the same. A prerendered page counts once it is shown. */
	var entry = $("article.entry[data-id]");
	if (entry && navigator.sendBeacon) {
		var sendView = function () { navigator.sendBeacon("/views/" + entry.dataset.id); };
		if (document.prerendering)
			document.addEventListener("prerenderingchange", sendView, { once: true });
		else
			sendView();
	}

	/* content.embeds=youtube (data-embeds on the article): an imported
	 * embed link (p.embed, stored as a plain link) to a YouTube video
	 * becomes a youtube-nocookie player in a sandboxed frame, built with
	 * DOM methods; every other link stays a link. The CSP's frame-src
	 * lets in that one origin only while the setting is on. */
	var YT_ID = /^[A-Za-z0-9_-]{11}$/;
	function youtubeId(href) {
		var u, id = null;
		try { u = new URL(href); } catch (err) { return null; }
		if ((u.protocol !== "https:" && u.protocol !== "http:") || u.port ||
		    u.username || u.password)
			return null;
		if (u.hostname === "youtu.be") {
			id = u.pathname.slice(1);
		} else if (u.hostname === "youtube.com" || u.hostname === "www.youtube.com" ||
		    u.hostname === "m.youtube.com") {
			if (u.pathname === "/watch" && u.searchParams.getAll("v").length === 1)
				id = u.searchParams.get("v");
			else if (u.pathname.indexOf("/embed/") === 0)
				id = u.pathname.slice(7);
		}
		return id && YT_ID.test(id) ? id : null;
	}
	var embedsIn = $("article.entry[data-embeds=youtube]");
	if (embedsIn && window.URL) {
		var links = embedsIn.querySelectorAll("p.embed > a[href]");
		for (var i = 0; i < links.length; i++) {
			var id = youtubeId(links[i].getAttribute("href"));
			if (!id) continue;
			var f = document.createElement("iframe");
			f.setAttribute("sandbox", "allow-scripts allow-same-origin allow-presentation allow-popups");
			f.setAttribute("src", "https://www.youtube-nocookie.com/embed/" + id);
			f.setAttribute("title", "YouTube");
			f.setAttribute("loading", "lazy");
			f.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
			f.setAttribute("allow", "encrypted-media; picture-in-picture; fullscreen");
			f.setAttribute("width", "560");
			f.setAttribute("height", "315");
			links[i].parentNode.replaceChild(f, links[i]);
		}
	}
})();
