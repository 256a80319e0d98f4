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
})();
