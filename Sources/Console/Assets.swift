/// The console's one stylesheet and its few lines of script, served from
/// memory (no build step, nothing fetched from elsewhere).
enum Assets {
    static let stylesheet = """
        :root { --ink: #1d2733; --muted: #5d6b7a; --line: #d9e0e7; --paper: #f5f7f9; --accent: #1f6feb;
                --good: #1a7f37; --bad: #c62828; --warn: #9a6700; font-family: system-ui, "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--ink); background: var(--paper); font-size: 15px; line-height: 1.45; }
        header { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; padding: .6rem 1.25rem;
                 background: #0f2a44; color: #fff; }
        header a { color: #dbe7f3; text-decoration: none; }
        .brand { font-weight: 700; font-size: 1.1rem; color: #fff; }
        .brand span { font-weight: 400; color: #9fb6cc; margin-left: .3rem; }
        nav { display: flex; flex-wrap: wrap; gap: .2rem; order: 3; flex-basis: 100%; margin: 0 -.5rem; }
        nav a { padding: .3rem .5rem; border-radius: 6px; white-space: nowrap; font-size: .9rem; }
        nav a:hover, nav a[aria-current] { background: #24476b; color: #fff; }
        .session { display: flex; align-items: center; gap: .6rem; font-size: .85rem; color: #c8d6e3; margin-left: auto; }
        main { max-width: 1240px; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
        h1 { font-size: 1.35rem; margin: .4rem 0 1rem; }
        h2 { font-size: 1.05rem; margin: 1.6rem 0 .6rem; color: #24323f; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: .75rem; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: .75rem 1rem; }
        .card .label { color: var(--muted); font-size: .8rem; }
        .card .value { font-size: 1.6rem; font-weight: 650; font-variant-numeric: tabular-nums; }
        .card.bad .value { color: var(--bad); } .card.good .value { color: var(--good); }
        .table { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 10px; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .45rem .7rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: .78rem; color: var(--muted); font-weight: 600; background: #fafbfc; white-space: nowrap; }
        tr:last-child td { border-bottom: none; }
        td { font-variant-numeric: tabular-nums; }
        pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: .82rem; background: #f0f3f6; padding: .5rem; border-radius: 6px; }
        .state { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; background: #e8edf2; }
        .state.discarded, .state.failed, .state.refused, .state.gone, .state.open, .state.rejected { background: #fde7e7; color: var(--bad); }
        .state.completed, .state.live, .state.done, .state.paid, .state.approved, .state.verified { background: #e3f4e8; color: var(--good); }
        .state.retryable, .state.paused, .state.scheduled, .state.retry { background: #fff4d6; color: var(--warn); }
        .notice { background: #e8f1ff; border: 1px solid #b6d0fb; padding: .5rem .8rem; border-radius: 8px; }
        .empty { color: var(--muted); }
        form.inline { display: inline; margin: 0 .25rem 0 0; }
        form.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: .8rem; }
        label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .15rem; }
        input, select, textarea { font: inherit; padding: .35rem .5rem; border: 1px solid #b8c4d0; border-radius: 6px; background: #fff; }
        button { font: inherit; padding: .3rem .8rem; border: 1px solid #1f5fcc; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
        button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
        .session button { background: transparent; border-color: #58738f; color: #dbe7f3; padding: .15rem .6rem; }
        .login { max-width: 360px; margin: 3rem auto; background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 1.5rem; }
        .login form { display: flex; flex-direction: column; gap: .8rem; }
        .muted { color: var(--muted); font-size: .85rem; }
        .refresh { float: right; font-size: .85rem; color: var(--muted); flex-direction: row; align-items: center; gap: .3rem; }
        @media (max-width: 700px) {
          header { padding: .5rem .75rem; } main { padding: .75rem; }
          nav { overflow-x: auto; flex-wrap: nowrap; scrollbar-width: none; }
          .table { border: none; background: transparent; }
          table, thead, tbody, tr, td { display: block; } thead { display: none; }
          tr { background: #fff; border: 1px solid var(--line); border-radius: 10px; margin-bottom: .6rem; padding: .3rem 0; }
          td { border: none; padding: .2rem .75rem; display: flex; gap: .75rem; }
          td::before { content: attr(data-label); color: var(--muted); font-size: .78rem; min-width: 7.5rem; }
        }
        """

    /// Auto-refresh of the pages that ask for it (data-refresh), remembered
    /// per browser; off while the operator types in a form.
    static let script = """
        document.addEventListener('DOMContentLoaded', function () {
          var seconds = Number(document.body.dataset.refresh || 0);
          if (!seconds) return;
          var box = document.getElementById('auto-refresh');
          if (box) {
            box.checked = localStorage.getItem('console-refresh') !== 'off';
            box.addEventListener('change', function () { localStorage.setItem('console-refresh', box.checked ? 'on' : 'off'); });
          }
          setInterval(function () {
            var typing = document.activeElement && /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName) && document.activeElement !== box;
            if ((!box || box.checked) && !typing) location.reload();
          }, seconds * 1000);
        });
        """
}
