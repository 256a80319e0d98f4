/* kiji: progressive enhancement only; every control works without this. */
(function () {
	"use strict";
	/* Reply links move the comment form under the comment replied to. */
	document.addEventListener("click", function (ev) {
		var a = ev.target.closest && ev.target.closest("a.reply-link");
		if (!a) return;
		var form = document.getElementById("respond");
		var li = document.getElementById("comment-" + a.dataset.parent);
		if (!form || !li) return;
		ev.preventDefault();
		li.querySelector(".comment-box").after(form);
		var parent = form.querySelector("input[name=parent]");
		if (parent) parent.value = a.dataset.parent;
		var body = form.querySelector("textarea");
		if (body) body.focus();
	});
})();
