/*
 * The demo-site generator (`kiji demo`). Articles go through the one save
 * path (content_save) in batch mode, like every other writer's.
 *
 * Everything is drawn from our own PRNG (xoshiro256** seeded by splitmix64)
 * and from the word lists below, laid out backwards from o->now, so one seed
 * and one now always give the same database. The text is invented for kiji:
 * fictional countries, generic equipment, made-up exercise names.
 */
#include "site.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../content/content.h"
#include "../render/render.h"

#define DEMO_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DEMO_PICK(d, a) ((a)[demo_below(&(d)->rng, DEMO_LEN(a))])

#define DEMO_NIMG 12           /* /media/demo-img-K.svg, K = 1..12 */
#define DEMO_NEYE 6            /* /media/demo-eye-K.svg, K = 1..6 */
#define DEMO_NDRAFT 2          /* unpublished extras after the N posts */
/* The page cache of the demo's writing connection: it builds B-trees of
 * hundreds of MB (at 4 MB a 100,000-article demo spent a fifth of its time
 * paging through the kernel; 256 MB: 35.3 -> 32.7 s of CPU at 30,000). */
#define DEMO_BATCH_CACHE_MIB 256
#define DEMO_NSCHED 2          /* scheduled extras, newest of all */
#define DEMO_MAX_DEPTH 12      /* replies stop nesting past this */
#define DEMO_DAY 86400

/* ---- word lists (all our own) ------------------------------------------- */

enum demo_tag {
	DT_F35, DT_NATO, DT_UAV, DT_NEXTGEN, DT_AEW, DT_TANKER, DT_PATROL,
	DT_AIRLIFT, DT_HELI, DT_DESTROYER, DT_FRIGATE, DT_SUB, DT_AMPHIB,
	DT_CARRIER, DT_USV, DT_TANK, DT_IFV, DT_ARTY, DT_AIRDEF, DT_ASHM,
	DT_CRUISE, DT_HYPER, DT_BMD, DT_SAT, DT_LAUNCH, DT_RADAR, DT_EW,
	DT_CYBER, DT_BUDGET, DT_PROCURE, DT_EXPORT, DT_EXERCISE, DT_ALLIANCE,
	DT_ARMSCTL, DT_SANCTION, DT_SHIPBUILD, DT_PERSONNEL, DT_ARCTIC,
	DT_SPACEFORCE, DT_CODEV,
	DT__MAX
};

static const struct store_tag demo_tags[DT__MAX] = {
	[DT_F35] = {0, "f-35", "F-35"},
	[DT_NATO] = {0, "nato", "NATO"},
	[DT_UAV] = {0, "uav", "UAV"},
	[DT_NEXTGEN] = {0, "next-gen-fighter", "次世代戦闘機"},
	[DT_AEW] = {0, "aew", "早期警戒機"},
	[DT_TANKER] = {0, "tanker", "空中給油機"},
	[DT_PATROL] = {0, "patrol-aircraft", "哨戒機"},
	[DT_AIRLIFT] = {0, "airlift", "輸送機"},
	[DT_HELI] = {0, "helicopter", "ヘリコプター"},
	[DT_DESTROYER] = {0, "destroyer", "駆逐艦"},
	[DT_FRIGATE] = {0, "frigate", "フリゲート"},
	[DT_SUB] = {0, "submarine", "潜水艦"},
	[DT_AMPHIB] = {0, "amphibious", "揚陸艦"},
	[DT_CARRIER] = {0, "carrier", "空母"},
	[DT_USV] = {0, "usv", "無人艦艇"},
	[DT_TANK] = {0, "tank", "戦車"},
	[DT_IFV] = {0, "ifv", "歩兵戦闘車"},
	[DT_ARTY] = {0, "artillery", "砲兵"},
	[DT_AIRDEF] = {0, "air-defense", "防空"},
	[DT_ASHM] = {0, "anti-ship-missile", "対艦ミサイル"},
	[DT_CRUISE] = {0, "cruise-missile", "巡航ミサイル"},
	[DT_HYPER] = {0, "hypersonic", "極超音速兵器"},
	[DT_BMD] = {0, "missile-defense", "ミサイル防衛"},
	[DT_SAT] = {0, "satellite", "人工衛星"},
	[DT_LAUNCH] = {0, "launch-vehicle", "ロケット"},
	[DT_RADAR] = {0, "radar", "レーダー"},
	[DT_EW] = {0, "electronic-warfare", "電子戦"},
	[DT_CYBER] = {0, "cyber", "サイバー"},
	[DT_BUDGET] = {0, "budget", "国防予算"},
	[DT_PROCURE] = {0, "procurement", "装備調達"},
	[DT_EXPORT] = {0, "export", "防衛装備輸出"},
	[DT_EXERCISE] = {0, "exercise", "共同演習"},
	[DT_ALLIANCE] = {0, "alliance", "同盟"},
	[DT_ARMSCTL] = {0, "arms-control", "軍備管理"},
	[DT_SANCTION] = {0, "sanctions", "制裁"},
	[DT_SHIPBUILD] = {0, "shipbuilding", "造船"},
	[DT_PERSONNEL] = {0, "personnel", "人事"},
	[DT_ARCTIC] = {0, "arctic", "北極"},
	[DT_SPACEFORCE] = {0, "space-force", "宇宙軍"},
	[DT_CODEV] = {0, "co-development", "共同開発"},
};

/* What an equipment entry is, so a category can prefer its own kind. */
enum demo_kind { DK_ANY, DK_AIR, DK_SEA, DK_LAND, DK_SPACE, DK_MISSILE, DK__MAX };

enum demo_cat {
	DC_NAMERICA, DC_EASIA, DC_EUROPE, DC_MIDEAST, DC_INDUSTRY, DC_AIR,
	DC_SEA, DC_SPACE, DC_ANALYSIS, DC_DOMESTIC,
	DC__MAX
};

static const struct {
	const char *slug, *name, *desc;
	enum demo_kind kind;
} demo_cats[DC__MAX] = {
	[DC_NAMERICA] = {"north-america", "北米", "北米各国の国防政策と装備の話題", DK_ANY},
	[DC_EASIA] = {"east-asia", "東アジア", "東アジアの安全保障環境を追う", DK_ANY},
	[DC_EUROPE] = {"europe", "欧州", "欧州の防衛協力と各国軍の近代化", DK_ANY},
	[DC_MIDEAST] = {"middle-east", "中東", "中東情勢と地域の軍事バランス", DK_ANY},
	[DC_INDUSTRY] = {"defense-industry", "防衛産業", "契約、輸出、量産体制など産業面の動き", DK_ANY},
	[DC_AIR] = {"aviation", "航空", "戦闘機、無人機、輸送機などの航空戦力", DK_AIR},
	[DC_SEA] = {"maritime", "海洋", "艦艇、潜水艦、海洋安全保障", DK_SEA},
	[DC_SPACE] = {"space", "宇宙", "衛星と宇宙利用を巡る競争", DK_SPACE},
	[DC_ANALYSIS] = {"analysis", "解説", "ニュースの背景を掘り下げる解説記事", DK_ANY},
	[DC_DOMESTIC] = {"domestic", "国内", "国内の防衛政策と議論", DK_ANY},
};

/* Fictional states, with an ASCII name for English source titles and URLs. */
static const struct {
	const char *ja, *en;
} demo_countries[] = {
	{"アルデン", "Alden"}, {"ノルヴィア", "Norvia"}, {"カスタリア", "Castaria"},
	{"ベルモント", "Belmont"}, {"オスタリア", "Ostaria"}, {"ザリエン", "Zarien"},
	{"マレドニア", "Maredonia"}, {"セレスタ", "Selesta"}, {"ヴァルカ", "Valka"},
	{"トレヴィア", "Trevia"}, {"ルシタ", "Lusita"}, {"イルマ", "Ilma"},
};

static const struct {
	const char *name, *unit, *en;
	enum demo_kind kind;
	enum demo_tag tag;
} demo_equip[] = {
	{"F-35A戦闘機", "機", "F-35A fighters", DK_AIR, DT_F35},
	{"F-35B", "機", "F-35B jets", DK_AIR, DT_F35},
	{"次世代戦闘機", "機", "next-generation fighters", DK_AIR, DT_NEXTGEN},
	{"早期警戒機", "機", "early warning aircraft", DK_AIR, DT_AEW},
	{"空中給油機", "機", "tanker aircraft", DK_AIR, DT_TANKER},
	{"哨戒機", "機", "maritime patrol aircraft", DK_AIR, DT_PATROL},
	{"戦術輸送機", "機", "tactical airlifters", DK_AIR, DT_AIRLIFT},
	{"攻撃ヘリコプター", "機", "attack helicopters", DK_AIR, DT_HELI},
	{"偵察用UAV", "機", "reconnaissance UAVs", DK_AIR, DT_UAV},
	{"中高度長時間滞空型UAV", "機", "MALE drones", DK_AIR, DT_UAV},
	{"徘徊型弾薬", "発", "loitering munitions", DK_MISSILE, DT_UAV},
	{"イージス駆逐艦", "隻", "Aegis destroyers", DK_SEA, DT_DESTROYER},
	{"汎用フリゲート", "隻", "frigates", DK_SEA, DT_FRIGATE},
	{"攻撃型原子力潜水艦", "隻", "nuclear attack submarines", DK_SEA, DT_SUB},
	{"通常動力型潜水艦", "隻", "diesel-electric submarines", DK_SEA, DT_SUB},
	{"強襲揚陸艦", "隻", "amphibious assault ships", DK_SEA, DT_AMPHIB},
	{"軽空母", "隻", "light carriers", DK_SEA, DT_CARRIER},
	{"無人水上艇", "隻", "unmanned surface vessels", DK_SEA, DT_USV},
	{"主力戦車", "両", "main battle tanks", DK_LAND, DT_TANK},
	{"歩兵戦闘車", "両", "infantry fighting vehicles", DK_LAND, DT_IFV},
	{"155mm自走榴弾砲", "両", "self-propelled howitzers", DK_LAND, DT_ARTY},
	{"多連装ロケットシステム", "基", "rocket artillery", DK_LAND, DT_ARTY},
	{"地対空ミサイルシステム", "基", "air defense systems", DK_MISSILE, DT_AIRDEF},
	{"長射程対艦ミサイル", "発", "anti-ship missiles", DK_MISSILE, DT_ASHM},
	{"巡航ミサイル", "発", "cruise missiles", DK_MISSILE, DT_CRUISE},
	{"極超音速滑空体", "発", "hypersonic glide vehicles", DK_MISSILE, DT_HYPER},
	{"弾道ミサイル防衛システム", "基", "missile defense systems", DK_MISSILE, DT_BMD},
	{"偵察衛星", "基", "reconnaissance satellites", DK_SPACE, DT_SAT},
	{"軍用通信衛星", "基", "military communications satellites", DK_SPACE, DT_SAT},
	{"再使用型ロケット", "基", "reusable launchers", DK_SPACE, DT_LAUNCH},
	{"地上配備型レーダー", "基", "ground-based radars", DK_LAND, DT_RADAR},
	{"電子戦システム", "基", "electronic warfare suites", DK_LAND, DT_EW},
};

static const char *const demo_forces[] = {
	"海軍", "空軍", "陸軍", "海兵隊", "宇宙軍", "沿岸警備隊", "国防省", "国防調達庁",
};
static const char *const demo_persons[] = {
	"国防相", "外相", "首相", "大統領", "海軍作戦部長", "空軍参謀総長",
	"陸軍参謀長", "統合参謀本部議長", "国防次官", "国防省報道官",
};
static const char *const demo_orgs[] = {
	"NATO", "国連安全保障理事会", "EU", "地域安全保障フォーラム", "G7",
};
static const char *const demo_exercises[] = {
	"ブルーホライズン", "ノーザンシールド", "コーラルトライデント", "アイアンコンパス",
	"シルバーウェーブ", "スカイランタン", "ストームゲート", "グリーンアンカー",
};
static const char *const demo_years[] = {
	"2027年", "2028年度", "2030年", "2032年", "2035年", "来年度", "今年末",
};
static const char *const demo_verbs[] = {
	"調達を正式決定", "配備を前倒し", "輸出交渉を開始", "発射試験に成功",
	"開発計画を見直し", "近代化改修に着手", "追加発注を検討", "退役を延期",
	"量産契約に署名", "試験運用を開始",
};
static const char *const demo_reactions[] = {
	"専門家は費用対効果に疑問", "議会は予算の精査を要求", "周辺国は強く反発",
	"納入は2年遅れる見込み", "野党は説明不足と批判", "市場関係者は歓迎",
	"同盟国は慎重な姿勢を崩さず", "実戦配備には課題も山積",
};
static const char *const demo_quotes[] = {
	"抑止力の強化に妥協はない", "対話の扉は常に開いている",
	"現有戦力だけでは空白が生じる", "同盟国との連携こそが最大の資産だ",
	"コストの問題は避けて通れない", "数年以内に結果を示す",
	"これは防御的な措置に過ぎない", "技術的な課題は既に克服した",
};
static const char *const demo_days[] = {
	"3日", "11日", "24日", "先週", "今月上旬", "現地時間の19日", "週明け", "昨年末",
};
static const char *const demo_money[] = {
	"約12億ドル", "約3,400億円", "約8億ユーロ", "約250億ドル", "約900億円", "数十億ドル",
};
static const char *const demo_pcts[] = {"3.8%", "6%", "9.5%", "12%", "15%"};
static const char *const demo_troops[] = {"800", "2,500", "4,000", "12,000", "30,000"};
static const char *const demo_qty[] = {
	"2", "4", "6", "8", "12", "16", "24", "36", "48", "72", "100",
};

static const char *const demo_titles[] = {
	"{C}{F}、{E}を{Q}追加調達へ",
	"{C}が{E}の{V}、{R}",
	"{C}{P}「{QUOTE}」",
	"{O}、{C}と{C2}の緊張緩和に向けた協議を{Y}にも開始か",
	"{C}{F}と{C2}{F2}が合同演習「{X}」を実施、{E}も参加",
	"{E}の量産遅延で{C}{F}の戦力計画に狂い、{R}",
	"なぜ{C}は{E}を選んだのか？ 競合案との比較で見える調達の論理",
	"{C}、{Y}までに{E}を{Q}配備する計画を発表",
	"{C}{P}が{C2}を訪問、{E}の共同開発で合意",
	"{C}{F}の{E}が{C2}の防空識別圏付近を飛行、{C2}{F2}は緊急発進で対応し{P}は「{QUOTE}」と強調、{R}",
	"{E}か{E2}か、{C}が次期主力に選ぶのはどちら",
	"{C}の国防予算、{Y}は前年比{PCT}増の見通し",
	"UAV輸出で存在感を増す{C}、国産{E}の売り込みを本格化",
	"{O}会合、{C}の加盟問題と{E}の供与が焦点に",
	"{C}{F}が{E}の運用試験を公開、詳細な結果は明らかにせず",
	"{C}、{E}導入を断念",
	"F-35の維持費が重荷に、{C}{F}が稼働率改善へ新方針",
	"{C}が新型{E}を公開、{R}",
	"{C}{F}の{E}計画、総額{MONEY}の契約が成立",
	"【解説】{E}とは何か、{C}と{C2}の運用思想の違いから読み解く",
};

static const char *const demo_leads[] = {
	"{C}{F}は{DAY}、{E}を{Q}追加で調達する方針を明らかにした。",
	"{C}{P}は{DAY}の記者会見で、{E}に関する新たな方針を明らかにした。",
	"{C}と{C2}は{DAY}、{E}の共同開発に向けた覚書に署名した。",
	"{O}は{DAY}、{C}の{E}配備計画に関する報告書を公表した。",
	"{C}{F}が{DAY}に{E}の運用試験を実施していたことが分かった。",
	"{C}政府は{DAY}、{Y}の国防予算案で{E}関連に{MONEY}を計上すると発表した。",
};

static const char *const demo_headings[] = {
	"{E}を巡る{C}の思惑", "残された課題", "{C2}の反応", "予算と調達スケジュール",
	"{F}内部の評価", "競合する{E2}との比較", "今後の焦点", "現場から見た{E}",
};

static const char *const demo_sentences[] = {
	"関係者によれば、契約総額は{MONEY}に達する見込みだという。",
	"{P}は記者会見で「{QUOTE}」と述べ、計画の妥当性を強調した。",
	"一方で{C2}は今回の決定に強い懸念を示しており、外交ルートを通じて説明を求めている。",
	"{E}は{Y}の初期作戦能力獲得を目標としているが、試験の遅れから計画の見直しは避けられないとの見方も根強い。",
	"同国はこれまで{E2}を主力として運用してきたが、老朽化が進み稼働率の低下が課題となっていた。",
	"演習「{X}」には約{K}人の将兵が参加し、{E}を組み込んだ長距離打撃の手順が確認された。",
	"専門家の間では、{E}の導入が地域の軍事バランスを大きく変える可能性があるとの指摘が出ている。",
	"ただし議会の承認を得るには、国内産業への経済効果を具体的に示す必要がありそうだ。",
	"{O}の報告書は、{C}の沿岸防衛能力が{Y}までに大幅に向上すると予測している。",
	"量産体制の整備には{MONEY}規模の追加投資が必要とされる。",
	"結局のところ、装備の数よりも運用を支える人材と整備体制こそが抑止力の実態を左右するのだろう。",
	"{C}の国防当局は詳細を明らかにしていないが、複数の報道が同様の内容を伝えている。",
	"なお{E}の輸出には{C2}政府の承認が必要で、交渉は難航する可能性がある。",
	"この動きが周辺国の軍拡競争を加速させるのか、今後の展開が注目される。",
	"{C}{F}の関係者は「現場の負担は限界に近い」と匿名を条件に語った。",
	"同型の{E}は既に{C2}でも運用されており、共同訓練を通じた相互運用性の向上が期待されている。",
	"予算案では{E}関連の研究開発費として{MONEY}が計上された。",
	"{DAY}に行われた試験では、模擬目標への対処に成功したと発表されている。",
	"民間の衛星画像からは、基地周辺で新たな格納庫の建設が進んでいる様子がうかがえる。",
	"{C}と{C2}の間では、{Y}に期限を迎える軍備管理協定の扱いも焦点となっている。",
	"もっとも、この計画が予定通り進むかどうかは不透明で、過去にも同様の構想が頓挫した例がある。",
	"{P}は「{QUOTE}」とも付け加えた。",
	"国防費の対GDP比を引き上げる議論も並行して進んでおり、{Y}の予算編成が一つの試金石になりそうだ。",
	"{F}は{E}の要員養成に{Y}まで時間がかかると見積もっている。",
	"今回の決定は、{C2}による{E2}の大量配備を強く意識したものと受け止められている。",
};

static const char *const demo_alts[] = {
	"{E}（イメージ）", "演習「{X}」の様子（イメージ）", "{C}{F}の基地（イメージ）",
	"試験中の{E}（イメージ）", "洋上を進む艦艇（イメージ）",
};
static const char *const demo_img_credits[] = {
	"kiji demo 編集部", "架空国防省 広報部", "Demo Navy Public Affairs",
	"Illustration by kiji demo", "{C}{F}（架空）",
};
static const char *const demo_eye_credits[] = {
	"Photo by kiji demo staff", "Illustration: kiji demo", "{C}{F} 広報写真（架空）",
	"kiji demo 編集部作成",
};

static const char *const demo_src_titles[] = {
	"{CE} outlines plan to buy more {EE}",
	"Analysts question the cost of {CE}'s {EE} program",
	"{CE} defense budget: what the numbers show",
	"Interview: the future of {EE} in {CE}",
	"{CE} and partners wrap up exercise, test {EE}",
	"Delays hit {EE} deliveries, officials say",
	"Why {CE} is betting on {EE}",
};
static const char *const demo_src_domains[] = {
	"news.example.com", "defense.example.net", "www.example.org",
	"journal.example.com", "wire.example.net",
};
static const char *const demo_src_sections[] = {"defense", "world", "policy", "industry"};
static const char *const demo_src_words[] = {
	"plan", "budget", "exercise", "deal", "delay", "interview", "test", "order",
};

static const char *const demo_nicks[] = {
	"通りすがりの整備士", "元艦乗り", "週末ミリオタ", "航空ファン歴20年", "匿名希望",
	"灰色の猫", "北の観測員", "ななし", "海辺の住人", "月見うどん", "ぱんだ工房",
	"Kaz", "rider77", "オメガ", "三等兵", "とある学生", "梅干し", "地方公務員",
	"ミリオタ見習い", "深夜の読者", "港町の釣り人", "鉄と油", "Tomo_K", "平和主義者",
};
static const char *const demo_comment_lines[] = {
	"これは予想どおりの展開ですね。",
	"予算の裏付けがないまま数だけ発表しても意味がないと思う。",
	"整備員の確保はどうするんだろう。",
	"結局のところ納期次第でしょう。",
	"{E}は評価が分かれる装備だけど、運用側の声も聞いてみたい。",
	"ソースを読むと少しニュアンスが違う気がする。",
	"いつも更新ありがとうございます。",
	"数字の比較がわかりやすかった。",
	"それは楽観的すぎない？",
	"前にも似たような計画が白紙になったよね。",
	"現場の負担が増えるだけでは。",
	"同盟国と足並みがそろうかどうかがポイントだと思う。",
	"値段が高すぎる。",
	"輸出できれば量産効果で単価は下がるはず。",
	"{C}の国内事情を考えると、これ以上の増額は難しそう。",
	"自分もそう思います。",
	"補足すると、試験自体は去年から始まっていたはず。",
	"{C2}がどう出るか次第かな。",
	"{E2}で十分という意見もあるけど、さすがに旧式すぎる。",
	"長文失礼しました。",
	"記事中の{MONEY}って維持費込みの数字なのかな？",
	"ニュースの見出しだけで判断するのは危ない。",
	"この手の話はいつも数年後に答え合わせになる。",
	"訓練の時間が確保できるのかが一番の問題だと思う。",
	"まあ様子見でしょうね。",
	"これは良いニュース。",
	"{F}の人員不足が解消しない限り、どんな装備を買っても同じことの繰り返しだと思う。",
	"{C2}の反応が妙に静かなのが気になる。水面下で何か動いているのでは。",
	"量産が軌道に乗るまでの空白期間をどう埋めるのか、そこが知りたい。",
	"国内産業の保護と性能のどちらを優先するか、毎回同じ議論になるね。",
	"比較対象の{E2}の数字も載せてほしかった。",
	"{Y}って、計画どおりなら間に合わないスケジュールでは？",
	"現実的な落としどころだと思う。",
	"これ、前の記事とつながっている話だよね。",
	"技術的には面白いけど、運用コストが心配。",
	"演習の規模が年々大きくなっている気がする。",
	"ちゃんと議会で議論してほしい。",
	"写真の機体、塗装が新しくなってる？",
};
_Static_assert(sizeof(demo_comment_lines) / sizeof(demo_comment_lines[0]) <= 64,
    "demo_comment_body tracks used lines in a uint64_t");
static const char *const demo_reply_openers[] = {
	"横からですが、", "同意です。", "それはどうかな。", "いや、そこは違うと思う。",
	"なるほど、", "ちょっと補足。",
};
static const char *const demo_comment_urls[] = {
	"https://www.example.com/analysis/", "https://wiki.example.org/wiki/Item_",
	"https://data.example.net/report?id=",
};
static const char *const demo_spam[] = {
	"副業で月収アップ！ 今すぐ登録 https://spam.example.net/offer",
	"格安ブランド品、本日限定セール中 https://shop.example.net/sale",
};
static const char *const demo_blogs[] = {
	"週末の防衛メモ", "海と空の観測ノート", "ミリタリー読書日記",
	"辺境の地政学ブログ", "装備調達ウォッチ",
};
static const char *const demo_tb_excerpts[] = {
	"{E}の件について、{C}の事情を少し補足しておきたい。調達の経緯を振り返ると…",
	"今日は{C}{F}の話題。{E}の数字を過去の計画と並べてみると見えてくることがある…",
	"{C2}側の視点から今回の発表を整理してみた。意外と冷静な反応が多い…",
};

/* ---- the generator's state and PRNG -------------------------------------- */

struct demo_rng {
	uint64_t s[4];
};

/* The article's cast: every slot of every template in one article draws
 * its country, force and equipment from here, so the text stays coherent. */
struct demo_cast {
	size_t c, c2, e, e2;
	const char *f, *f2, *p, *o, *x, *y;
};

/* One generator run: the options, the PRNG, the ids the store assigned,
 * and buffers reused for every article so 10,000 of them cost no more
 * allocations than one. */
struct demo {
	store *st;
	const struct site_demo_opts *o;
	buf *err;
	struct demo_rng rng;
	arena *ar;            /* per article, reset each time */
	arena *keep;          /* titles of published articles */
	int64_t users[3];
	int64_t cats[DC__MAX];
	int64_t tags[DT__MAX];
	int64_t total;        /* articles to insert, extras included */
	int64_t *ids;         /* store id of the i-th inserted article */
	const char **titles;  /* its title (published ones) */
	int64_t *times;       /* publish times of the N posts */
	buf md, tmp;
	int deck[64];         /* shuffled demo_sentences indices */
	size_t deck_pos;
	int64_t *ct;          /* comment scratch: times, the comments and
	                       * their parents' places, depths */
	struct store_comment *cs;
	int64_t *cpar;
	int *cdepth;
	bool *cok;            /* may be replied to */
	size_t ccap;
	struct timespec drawn; /* last progress-bar update */
	int64_t ip_until;     /* comments before this have no IP address */
};

/* splitmix64 step: turns one seed word into well-mixed state words. */
static uint64_t
demo_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Seeds xoshiro256** from one 64-bit seed; never all-zero state. */
static void
demo_seed(struct demo_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = demo_splitmix(&seed);
}

/* 64-bit rotate left, xoshiro's mixing step. */
static uint64_t
demo_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: our own stream, so the site never depends on libc rand(). */
static uint64_t
demo_next(struct demo_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = demo_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = demo_rotl(s[3], 45);
	return out;
}

/* Uniform in [0, n) (0 when n is 0); the modulo bias is irrelevant here. */
static uint64_t
demo_below(struct demo_rng *r, uint64_t n)
{
	return n ? demo_next(r) % n : 0;
}

/* Uniform in [lo, hi]. */
static int64_t
demo_range(struct demo_rng *r, int64_t lo, int64_t hi)
{
	return hi <= lo ? lo : lo + (int64_t)demo_below(r, (uint64_t)(hi - lo) + 1);
}

/* True with probability per_mille / 1000 (integers keep it exact). */
static bool
demo_chance(struct demo_rng *r, unsigned per_mille)
{
	return demo_below(r, 1000) < per_mille;
}

/* Uniform double in [0, 1) from the top 53 bits. */
static double
demo_unit(struct demo_rng *r)
{
	return (double)(demo_next(r) >> 11) * 0x1.0p-53;
}

/* Records a store failure in d->err; returns false for `return demo_fail()`. */
static bool
demo_fail(struct demo *d, const char *what, enum store_err e)
{
	buf_printf(d->err, "demo: %s: %s", what, store_strerror(e));
	return false;
}

/* ---- text generation -------------------------------------------------------- */

/* Writes one {slot}'s word; unknown slots are copied literally so a typo in
 * a template shows up in the output rather than vanishing. */
static void
demo_slot(struct demo *d, const struct demo_cast *k, buf *out, const char *key,
    size_t n)
{
#define DEMO_KEY(s) (n == sizeof(s) - 1 && memcmp(key, s, n) == 0)
	if (DEMO_KEY("C"))
		buf_puts(out, demo_countries[k->c].ja);
	else if (DEMO_KEY("C2"))
		buf_puts(out, demo_countries[k->c2].ja);
	else if (DEMO_KEY("CE"))
		buf_puts(out, demo_countries[k->c].en);
	else if (DEMO_KEY("E"))
		buf_puts(out, demo_equip[k->e].name);
	else if (DEMO_KEY("E2"))
		buf_puts(out, demo_equip[k->e2].name);
	else if (DEMO_KEY("EE"))
		buf_puts(out, demo_equip[k->e].en);
	else if (DEMO_KEY("F"))
		buf_puts(out, k->f);
	else if (DEMO_KEY("F2"))
		buf_puts(out, k->f2);
	else if (DEMO_KEY("P"))
		buf_puts(out, k->p);
	else if (DEMO_KEY("O"))
		buf_puts(out, k->o);
	else if (DEMO_KEY("X"))
		buf_puts(out, k->x);
	else if (DEMO_KEY("Y"))
		buf_puts(out, k->y);
	else if (DEMO_KEY("Q"))
		buf_printf(out, "%s%s", DEMO_PICK(d, demo_qty), demo_equip[k->e].unit);
	else if (DEMO_KEY("V"))
		buf_puts(out, DEMO_PICK(d, demo_verbs));
	else if (DEMO_KEY("R"))
		buf_puts(out, DEMO_PICK(d, demo_reactions));
	else if (DEMO_KEY("QUOTE"))
		buf_puts(out, DEMO_PICK(d, demo_quotes));
	else if (DEMO_KEY("DAY"))
		buf_puts(out, DEMO_PICK(d, demo_days));
	else if (DEMO_KEY("MONEY"))
		buf_puts(out, DEMO_PICK(d, demo_money));
	else if (DEMO_KEY("PCT"))
		buf_puts(out, DEMO_PICK(d, demo_pcts));
	else if (DEMO_KEY("K"))
		buf_puts(out, DEMO_PICK(d, demo_troops));
	else
		buf_put(out, key - 1, n + 2);
#undef DEMO_KEY
}

/* Expands a template's {slots} from the cast (and fresh random picks for
 * the free slots), appending to out. */
static void
demo_expand(struct demo *d, const struct demo_cast *k, buf *out, const char *tpl)
{
	const char *s = tpl;
	for (;;) {
		const char *open = strchr(s, '{');
		const char *close = open ? strchr(open, '}') : NULL;
		if (close == NULL) {
			buf_puts(out, s);
			return;
		}
		buf_put(out, s, (size_t)(open - s));
		demo_slot(d, k, out, open + 1, (size_t)(close - open - 1));
		s = close + 1;
	}
}

/* As demo_expand, into a fresh arena string (for short fields). */
static const char *
demo_expand_str(struct demo *d, const struct demo_cast *k, const char *tpl)
{
	buf_reset(&d->tmp);
	demo_expand(d, k, &d->tmp, tpl);
	return arena_strndup(d->ar, buf_cstr(&d->tmp), d->tmp.len);
}

/* Picks equipment, preferring the category's kind most of the time. */
static size_t
demo_pick_equip(struct demo *d, enum demo_kind want)
{
	size_t e = demo_below(&d->rng, DEMO_LEN(demo_equip));
	if (want == DK_ANY || !demo_chance(&d->rng, 800))
		return e;
	for (int tries = 0; tries < 16 && demo_equip[e].kind != want; tries++)
		e = demo_below(&d->rng, DEMO_LEN(demo_equip));
	return e;
}

/* Chooses one article's cast: two different countries, two different
 * pieces of equipment, and the rest of the named slots. */
static void
demo_cast_new(struct demo *d, enum demo_cat cat, struct demo_cast *k)
{
	size_t nc = DEMO_LEN(demo_countries), ne = DEMO_LEN(demo_equip);
	k->c = demo_below(&d->rng, nc);
	k->c2 = (k->c + 1 + demo_below(&d->rng, nc - 1)) % nc;
	k->e = demo_pick_equip(d, demo_cats[cat].kind);
	k->e2 = demo_pick_equip(d, demo_equip[k->e].kind);
	if (k->e2 == k->e)
		k->e2 = (k->e + 1) % ne;
	k->f = DEMO_PICK(d, demo_forces);
	k->f2 = DEMO_PICK(d, demo_forces);
	k->p = DEMO_PICK(d, demo_persons);
	k->o = DEMO_PICK(d, demo_orgs);
	k->x = DEMO_PICK(d, demo_exercises);
	k->y = DEMO_PICK(d, demo_years);
}

/* Shuffles the first n of idx (Fisher-Yates on our own stream). */
static void
demo_shuffle(struct demo *d, int *idx, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)demo_below(&d->rng, (uint64_t)i + 1);
		int t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
	}
}

_Static_assert(DEMO_LEN(demo_sentences) <= 64, "struct demo.deck too small");

/* Reshuffles the article's sentence deck and starts dealing from the top. */
static void
demo_deck_shuffle(struct demo *d)
{
	for (size_t i = 0; i < DEMO_LEN(demo_sentences); i++)
		d->deck[i] = (int)i;
	demo_shuffle(d, d->deck, (int)DEMO_LEN(demo_sentences));
	d->deck_pos = 0;
}

/* One body paragraph of 2-4 sentences dealt from the article's shuffled
 * deck, so no sentence repeats until all have been used; the first
 * paragraph opens with a news lead. */
static void
demo_paragraph(struct demo *d, const struct demo_cast *k, buf *md, bool lead)
{
	int n = (int)demo_range(&d->rng, 2, 4);
	if (lead) {
		demo_expand(d, k, md, DEMO_PICK(d, demo_leads));
		n--;
	}
	for (int i = 0; i < n; i++) {
		if (d->deck_pos >= DEMO_LEN(demo_sentences))
			demo_deck_shuffle(d);
		demo_expand(d, k, md, demo_sentences[d->deck[d->deck_pos++]]);
	}
	buf_puts(md, "\n\n");
}

/*
 * The Markdown body of article i: 4-8 paragraphs, 1-3 `## ` subheadings,
 * 1-2 credited images alone in their paragraph, and up to two 関連記事
 * lines pointing at earlier published articles (whose ids we know).
 */
static void
demo_body(struct demo *d, const struct demo_cast *k, int64_t i, buf *md)
{
	int np = (int)demo_range(&d->rng, 4, 8);
	int nh = (int)demo_range(&d->rng, 1, 3);
	int ni = (int)demo_range(&d->rng, 1, 2);
	bool head[9] = {false}, img[9] = {false};
	int idx[8];

	demo_deck_shuffle(d);
	for (int j = 0; j < np - 1; j++)
		idx[j] = j + 1;
	demo_shuffle(d, idx, np - 1);
	for (int j = 0; j < nh; j++)
		head[idx[j]] = true;
	for (int j = 0; j < np; j++)
		idx[j] = j;
	demo_shuffle(d, idx, np);
	for (int j = 0; j < ni; j++)
		img[idx[j]] = true;

	for (int j = 0; j < np; j++) {
		if (head[j]) {
			buf_puts(md, "## ");
			demo_expand(d, k, md, DEMO_PICK(d, demo_headings));
			buf_puts(md, "\n\n");
		}
		demo_paragraph(d, k, md, j == 0);
		if (img[j]) {
			buf_puts(md, "![");
			demo_expand(d, k, md, DEMO_PICK(d, demo_alts));
			buf_printf(md, "](/media/demo-img-%d.svg \"出典: ",
			    (int)demo_range(&d->rng, 1, DEMO_NIMG));
			demo_expand(d, k, md, DEMO_PICK(d, demo_img_credits));
			buf_puts(md, "\")\n\n");
		}
	}

	/* Related links: published articles come first, so any j < i below
	 * the N posts is a visible, earlier article. */
	int64_t pub = i < d->o->articles ? i : d->o->articles;
	int nr = pub >= 2 ? 2 : (int)pub;
	int64_t prev = -1;
	for (int j = 0; j < nr; j++) {
		int64_t window = pub < 80 ? pub : 80;
		int64_t r = pub - 1 - (int64_t)demo_below(&d->rng, (uint64_t)window);
		if (demo_chance(&d->rng, 200))
			r = (int64_t)demo_below(&d->rng, (uint64_t)pub);
		if (r == prev)
			r = r > 0 ? r - 1 : r + 1;
		if (r < 0 || r >= pub || r == prev)
			continue;
		prev = r;
		buf_printf(md, "関連記事:[%s](/articles/%" PRId64 ")\n\n",
		    d->titles[r], d->ids[r]);
	}
}

/* 2-3 source references on example domains, dated like the article. */
static void
demo_sources(struct demo *d, const struct demo_cast *k, int64_t i,
    int64_t when, struct content_input *a)
{
	time_t t = (time_t)when;
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = (size_t)demo_range(&d->rng, 2, 3);
	size_t first = demo_below(&d->rng, DEMO_LEN(demo_src_titles));
	struct store_source *src = arena_alloc(d->ar, n * sizeof(*src));
	a->sources = src;
	a->nsources = n;
	for (size_t j = 0; j < n; j++) {
		const char *title = demo_expand_str(d, k,
		    demo_src_titles[(first + j) % DEMO_LEN(demo_src_titles)]);
		const char *dom = DEMO_PICK(d, demo_src_domains);
		const char *sec = DEMO_PICK(d, demo_src_sections);
		const char *word = DEMO_PICK(d, demo_src_words);
		char country[32];
		size_t m = 0;
		for (const char *p = demo_countries[k->c].en; *p && m < sizeof(country) - 1; p++)
			country[m++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		country[m] = '\0';
		src[j].title = title;
		src[j].url = arena_printf(d->ar,
		    "https://%s/%s/%04d/%02d/%s-%s-%" PRId64 "%zu", dom, sec,
		    tm.tm_year + 1900, tm.tm_mon + 1, country, word, i + 1, j + 1);
	}
}

/* 1-4 distinct tags (by name, as writers give them): the equipment's
 * own tag first, then random ones. */
static void
demo_pick_tags(struct demo *d, const struct demo_cast *k, struct content_input *a)
{
	size_t n = (size_t)demo_range(&d->rng, 1, 4);
	size_t picked[4];
	const char **names = arena_alloc(d->ar, n * sizeof(*names));
	a->tags = names;
	a->ntags = 0;
	for (size_t j = 0; j < n; j++) {
		size_t t = j == 0 ? (size_t)demo_equip[k->e].tag
				  : demo_below(&d->rng, DT__MAX);
		bool dup = false;
		for (size_t m = 0; m < a->ntags; m++)
			dup |= picked[m] == t;
		if (dup)
			continue;
		picked[a->ntags] = t;
		names[a->ntags++] = demo_tags[t].name;
	}
}

/* ---- comments, trackbacks, views ---------------------------------------------- */

/* qsort order for comment times. */
static int
demo_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Grows the comment scratch arrays to hold n. */
static void
demo_scratch(struct demo *d, size_t n)
{
	if (n <= d->ccap)
		return;
	size_t cap = d->ccap ? d->ccap : 64;
	while (cap < n)
		cap *= 2;
	d->ct = xrealloc(d->ct, cap * sizeof(*d->ct));
	d->cs = xrealloc(d->cs, cap * sizeof(*d->cs));
	d->cpar = xrealloc(d->cpar, cap * sizeof(*d->cpar));
	d->cdepth = xrealloc(d->cdepth, cap * sizeof(*d->cdepth));
	d->cok = xrealloc(d->cok, cap * sizeof(*d->cok));
	d->ccap = cap;
}

/* How many comments an article gets: a spread around the mean m with
 * some silent articles and a few heated ones (about 3m). */
static int64_t
demo_comment_count(struct demo *d)
{
	int64_t m = d->o->comments;
	if (m <= 0)
		return 0;
	uint64_t r = demo_below(&d->rng, 100);
	if (r < 12)
		return 0;
	if (r < 17)
		return demo_range(&d->rng, m * 5 / 2, m * 7 / 2);
	return demo_range(&d->rng, m * 2 / 5, m * 8 / 5);
}

/* A visitor cookie value: 32 random hex digits. */
static const char *
demo_visitor(struct demo *d)
{
	uint64_t a = demo_next(&d->rng), b = demo_next(&d->rng);
	return arena_printf(d->ar, "%016" PRIx64 "%016" PRIx64, a, b);
}

/* Mostly single digits, now and then a favourite with dozens of likes. */
static int64_t
demo_likes(struct demo *d)
{
	uint64_t r = demo_below(&d->rng, 100);
	if (r < 88) {
		double u = demo_unit(&d->rng);
		return (int64_t)(u * u * 11.0);
	}
	if (r < 96)
		return demo_range(&d->rng, 11, 19);
	return demo_range(&d->rng, 20, 60);
}

/* A reader's comment: mostly one short paragraph, sometimes two or three,
 * lines never repeated within it, now and then a URL line; replies
 * sometimes open with a reaction to the parent. */
static const char *
demo_comment_body(struct demo *d, const struct demo_cast *k, bool reply)
{
	buf *b = &d->tmp;
	uint64_t used = 0;
	buf_reset(b);
	uint64_t r = demo_below(&d->rng, 100);
	int paras = r < 62 ? 1 : r < 90 ? 2 : 3;
	if (reply && demo_chance(&d->rng, 350))
		buf_puts(b, DEMO_PICK(d, demo_reply_openers));
	for (int p = 0; p < paras; p++) {
		if (p > 0)
			buf_puts(b, "\n\n");
		uint64_t lr = demo_below(&d->rng, 100);
		int lines = lr < 60 ? 1 : lr < 92 ? 2 : 3;
		for (int l = 0; l < lines; l++) {
			size_t i = demo_below(&d->rng, DEMO_LEN(demo_comment_lines));
			while (used & ((uint64_t)1 << i))
				i = (i + 1) % DEMO_LEN(demo_comment_lines);
			used |= (uint64_t)1 << i;
			if (l > 0)
				buf_putc(b, '\n');
			demo_expand(d, k, b, demo_comment_lines[i]);
		}
	}
	if (demo_chance(&d->rng, 100))
		buf_printf(b, "\n%s%d", DEMO_PICK(d, demo_comment_urls),
		    (int)demo_range(&d->rng, 100, 9999));
	return arena_strndup(d->ar, buf_cstr(b), b->len);
}

/*
 * The comment threads of one published article: sorted times between the
 * publish date and now (front-loaded, like real discussions), each either a
 * new thread or a reply to an earlier approved comment; replying to the
 * latest one makes the 3-5 level chains real threads have.
 */
static bool
demo_comments(struct demo *d, const struct demo_cast *k, int64_t aid, int64_t pub)
{
	int64_t n = demo_comment_count(d);
	int64_t span = d->o->now - pub - 120;
	if (span > 21 * DEMO_DAY)
		span = 21 * DEMO_DAY;
	if (n <= 0 || span <= 0)
		return true;
	demo_scratch(d, (size_t)n);
	for (int64_t j = 0; j < n; j++) {
		double u = demo_unit(&d->rng);
		d->ct[j] = pub + 60 + (int64_t)((double)span * u * u * u);
	}
	qsort(d->ct, (size_t)n, sizeof(*d->ct), demo_cmp_i64);

	int64_t last_ok = -1;
	for (int64_t j = 0; j < n; j++) {
		struct store_comment c = {0};
		d->cpar[j] = -1;
		uint64_t st = demo_below(&d->rng, 1000);
		c.status = st < 20 ? CSTATUS_PENDING : st < 32 ? CSTATUS_SPAM
							     : CSTATUS_APPROVED;
		int depth = 1;
		if (c.status != CSTATUS_SPAM && last_ok >= 0 &&
		    demo_chance(&d->rng, 550)) {
			int64_t p = last_ok;
			if (!demo_chance(&d->rng, 600)) {
				p = (int64_t)demo_below(&d->rng, (uint64_t)j);
				while (p > 0 && !d->cok[p])
					p--;
			}
			if (d->cok[p] && d->cdepth[p] < DEMO_MAX_DEPTH) {
				d->cpar[j] = p;
				depth = d->cdepth[p] + 1;
			}
		}
		c.article_id = aid;
		c.type = CTYPE_COMMENT;
		if (c.status == CSTATUS_SPAM) {
			c.nickname = "激安ショップ";
			c.body = DEMO_PICK(d, demo_spam);
		} else {
			c.nickname = demo_chance(&d->rng, 400) ? "名無しさん"
							      : DEMO_PICK(d, demo_nicks);
			c.body = demo_comment_body(d, k, d->cpar[j] >= 0);
		}
		c.email = "";
		c.url = "";
		c.ip = arena_printf(d->ar, "203.0.113.%d", (int)demo_range(&d->rng, 1, 254));
		if (d->ct[j] < d->ip_until)
			c.ip = ""; /* as the privacy job leaves it (privacy.c) */
		c.visitor_id = demo_visitor(d);
		c.created_at = d->ct[j];
		c.like_count = c.status == CSTATUS_APPROVED ? demo_likes(d) : 0;
		c.legacy_id = "";
		d->cs[j] = c;
		d->cdepth[j] = depth;
		d->cok[j] = c.status == CSTATUS_APPROVED;
		if (d->cok[j])
			last_ok = j;
	}
	/* the thread in one unit: the article's count moves once */
	enum store_err e = store_comments_add(d->st, d->cs, d->cpar, (size_t)n);
	if (e != STORE_OK)
		return demo_fail(d, "store_comments_add", e);
	return true;
}

/* One or two trackbacks from (example) blogs on about a tenth of posts. */
static bool
demo_trackbacks(struct demo *d, const struct demo_cast *k, int64_t aid,
    int64_t pub, int64_t i)
{
	int64_t span = d->o->now - pub - 600;
	if (span <= 0 || !demo_chance(&d->rng, 100))
		return true;
	int n = (int)demo_range(&d->rng, 1, 2);
	for (int j = 0; j < n; j++) {
		struct store_comment c = {0};
		size_t blog = demo_below(&d->rng, DEMO_LEN(demo_blogs));
		c.article_id = aid;
		c.type = CTYPE_TRACKBACK;
		c.status = CSTATUS_APPROVED;
		c.nickname = demo_blogs[blog];
		c.email = "";
		c.url = arena_printf(d->ar, "https://blog.example.org/b%zu/entry-%" PRId64
		    "-%d.html", blog + 1, i + 1, j + 1);
		c.ip = arena_printf(d->ar, "203.0.113.%d", (int)demo_range(&d->rng, 1, 254));
		c.visitor_id = "";
		c.body = demo_expand_str(d, k, DEMO_PICK(d, demo_tb_excerpts));
		c.created_at = pub + 300 + (int64_t)demo_below(&d->rng,
		    (uint64_t)(span < 3 * DEMO_DAY ? span : 3 * DEMO_DAY));
		c.legacy_id = "";
		enum store_err e = store_comment_add(d->st, &c);
		if (e != STORE_OK)
			return demo_fail(d, "store_comment_add (trackback)", e);
	}
	return true;
}

/* Daily views over the last 30 days: recent posts decay from a popularity
 * drawn with a long tail, older posts get an occasional trickle. */
static bool
demo_views(struct demo *d, int64_t aid, int64_t pub)
{
	int64_t now = d->o->now;
	int64_t pop = demo_range(&d->rng, 5, 45);
	if (demo_chance(&d->rng, 30))
		pop += demo_range(&d->rng, 500, 3500);
	else if (demo_chance(&d->rng, 150))
		pop += demo_range(&d->rng, 50, 350);
	int64_t age = (now - pub) / DEMO_DAY;
	enum store_err e = STORE_OK;
	if (age < 30) {
		for (int64_t day = 0; day <= age && e == STORE_OK; day++) {
			int64_t t = pub + day * DEMO_DAY;
			if (t >= now)
				t = now - 1;
			int64_t v = pop * 3 / (day + 1) + demo_range(&d->rng, 0, 5);
			e = store_views_add(d->st, aid, t, v);
		}
	} else if (demo_chance(&d->rng, 250)) {
		int n = (int)demo_range(&d->rng, 1, 3);
		for (int j = 0; j < n && e == STORE_OK; j++) {
			int64_t t = now - 1 - demo_range(&d->rng, 0, 29 * DEMO_DAY);
			e = store_views_add(d->st, aid, t, demo_range(&d->rng, 1, pop / 2 + 3));
		}
	}
	return e == STORE_OK || demo_fail(d, "store_views_add", e);
}

/* ---- articles ------------------------------------------------------------------- */

/*
 * Inserts the i-th article (0-based, oldest first): the N published posts,
 * then the drafts, then the scheduled posts. Published posts also get
 * comments, trackbacks and views.
 */
static bool
demo_article(struct demo *d, int64_t i)
{
	const struct site_demo_opts *o = d->o;
	struct content_input a = {0};
	struct content_result res;
	struct demo_cast k;
	enum demo_cat cat = (enum demo_cat)demo_below(&d->rng, DC__MAX);
	bool published = i < o->articles;

	arena_reset(d->ar);
	demo_cast_new(d, cat, &k);

	if (published) {
		a.status = STATUS_PUBLISHED;
		a.published_at = d->times[i];
	} else if (i < o->articles + DEMO_NDRAFT) {
		a.status = STATUS_DRAFT;
		a.published_at = o->now - 5400 + (i - o->articles) * 600;
	} else {
		a.status = STATUS_SCHEDULED;
		a.published_at = o->now + 3 * 3600 +
		    (i - o->articles - DEMO_NDRAFT) * DEMO_DAY;
	}

	buf_reset(&d->tmp);
	demo_expand(d, &k, &d->tmp, DEMO_PICK(d, demo_titles));
	a.title = arena_strndup(d->ar, buf_cstr(&d->tmp), d->tmp.len);
	if (published)
		d->titles[i] = arena_strdup(d->keep, a.title);

	buf_reset(&d->md);
	demo_body(d, &k, i, &d->md);
	a.body = buf_cstr(&d->md);
	a.body_format = FORMAT_MARKDOWN;
	a.kind = KIND_POST;
	a.slug = arena_printf(d->ar, "%s-%" PRId64, demo_cats[cat].slug, i + 1);
	a.excerpt = "";
	a.no_pings = true; /* made-up articles notify nobody */
	/* the save happens when the article was last edited */
	a.now = published ? a.published_at : o->now - 1800;
	if (published && demo_chance(&d->rng, 150))
		a.now += demo_range(&d->rng, 600, 2 * DEMO_DAY);
	if (a.now > o->now)
		a.now = o->now;
	uint64_t who = demo_below(&d->rng, 10);
	a.author_id = d->users[who < 5 ? 2 : who < 8 ? 1 : 0];
	a.category_id = d->cats[cat];
	a.eyecatch = arena_printf(d->ar, "/media/demo-eye-%d.svg",
	    (int)demo_range(&d->rng, 1, DEMO_NEYE));
	a.eyecatch_credit = demo_expand_str(d, &k, DEMO_PICK(d, demo_eye_credits));
	a.comments_open = !demo_chance(&d->rng, 60);
	a.guid = arena_printf(d->ar, "kiji-demo-%" PRIu64 "-%" PRId64, o->seed, i + 1);
	a.legacy_id = "";
	demo_sources(d, &k, i, a.published_at, &a);
	demo_pick_tags(d, &k, &a);

	if (content_save(d->st, &a, d->ar, &res) != CONTENT_OK) {
		buf_printf(d->err, "demo: article %" PRId64 ": %s: %s", i + 1,
		    res.field ? res.field : "save", res.message_en);
		return false;
	}
	d->ids[i] = res.id;
	if (!published)
		return true;
	return demo_comments(d, &k, res.id, a.published_at) &&
	    demo_trackbacks(d, &k, res.id, a.published_at, i) &&
	    demo_views(d, res.id, a.published_at);
}

/* Publish times of the N posts, newest about an hour before now, a few
 * hours apart (closer together when N would reach back past 2000). */
static void
demo_layout_times(struct demo *d)
{
	int64_t n = d->o->articles;
	int64_t gap = 12600;
	if (n > 0 && (d->o->now - 946684800) / n < gap)
		gap = (d->o->now - 946684800) / n;
	if (gap < 60)
		gap = 60;
	int64_t t = d->o->now - 3600 - demo_range(&d->rng, 0, 1800);
	for (int64_t i = n - 1; i >= 0; i--) {
		d->times[i] = t;
		t -= gap / 2 + demo_range(&d->rng, 0, gap);
	}
}

/* ---- media ------------------------------------------------------------------------ */

enum demo_shape { DS_SHIP, DS_SUB, DS_JET, DS_TANK, DS_SAT, DS_MISSILE, DS_RADAR, DS_HELI, DS__MAX };

/* Silhouettes in a 100x40 box, waterline/ground at y=30 where it matters. */
static const char *const demo_shapes[DS__MAX] = {
	[DS_SHIP] = "<polygon points=\"0,18 6,30 94,30 100,18 78,18 78,12 66,12 64,4 "
		    "61,4 59,12 48,12 48,8 44,8 44,12 30,12 30,16 12,16 12,18\"/>"
		    "<rect x=\"62\" y=\"0\" width=\"1.2\" height=\"5\"/>",
	[DS_SUB] = "<polygon points=\"0,25 8,20 88,20 100,24 90,30 10,30\"/>"
		   "<polygon points=\"55,20 58,11 67,11 69,20\"/>",
	[DS_JET] = "<polygon points=\"0,14 16,11 38,10 50,2 57,2 55,10 80,10 91,3 "
		   "96,3 94,12 100,14 94,16 70,17 60,17 67,26 61,26 48,17 18,17\"/>",
	[DS_TANK] = "<polygon points=\"4,22 96,22 100,27 92,34 8,34 0,27\"/>"
		    "<polygon points=\"28,13 64,13 72,22 22,22\"/>"
		    "<rect x=\"64\" y=\"15\" width=\"36\" height=\"3\"/>",
	[DS_SAT] = "<rect x=\"42\" y=\"10\" width=\"16\" height=\"20\"/>"
		   "<rect x=\"2\" y=\"15\" width=\"36\" height=\"10\" opacity=\"0.8\"/>"
		   "<rect x=\"62\" y=\"15\" width=\"36\" height=\"10\" opacity=\"0.8\"/>"
		   "<rect x=\"38\" y=\"19\" width=\"24\" height=\"2\"/>"
		   "<circle cx=\"50\" cy=\"6\" r=\"4\"/>",
	[DS_MISSILE] = "<polygon points=\"47,2 50,0 53,2 53,26 56,30 44,30 47,26\"/>"
		       "<polygon points=\"46,30 54,30 50,40\" fill=\"#f6a23a\"/>",
	[DS_RADAR] = "<polygon points=\"40,30 60,30 54,18 46,18\"/>"
		     "<rect x=\"48\" y=\"10\" width=\"4\" height=\"9\"/>"
		     "<ellipse cx=\"50\" cy=\"8\" rx=\"16\" ry=\"6\"/>",
	[DS_HELI] = "<ellipse cx=\"34\" cy=\"18\" rx=\"16\" ry=\"7\"/>"
		    "<polygon points=\"48,16 92,14 96,8 98,8 97,18 50,21\"/>"
		    "<rect x=\"8\" y=\"8\" width=\"54\" height=\"1.6\"/>"
		    "<rect x=\"33\" y=\"8\" width=\"2\" height=\"4\"/>"
		    "<rect x=\"22\" y=\"27\" width=\"26\" height=\"1.4\"/>",
};

enum demo_sky { SKY_DAY, SKY_DUSK, SKY_NIGHT, SKY_DESERT, SKY__MAX };

static const struct {
	const char *top, *bottom, *sea, *land, *ink;
} demo_skies[SKY__MAX] = {
	[SKY_DAY] = {"#3f86cf", "#cfe6f5", "#2b5f8f", "#5f7d4c", "#1d2329"},
	[SKY_DUSK] = {"#2a2c5a", "#f0a04f", "#3b3656", "#4a3a48", "#0d0f14"},
	[SKY_NIGHT] = {"#04060d", "#1c2a48", "#0c1626", "#141c18", "#8fa3bf"},
	[SKY_DESERT] = {"#7ab0de", "#f2e2c2", "#c8a566", "#c8a566", "#2a2118"},
};

/* One scene: sky, ground or sea, and silhouettes. */
struct demo_scene {
	enum demo_sky sky;
	enum demo_shape shape;
	int count;      /* how many of the shape */
	bool sea;       /* sea with wave lines, else land with hills */
	bool horizon;   /* false: no ground at all (satellite in orbit) */
	bool airborne;  /* placed in the sky rather than on the horizon */
};

static const struct demo_scene demo_scenes[DEMO_NIMG] = {
	{SKY_DAY, DS_SHIP, 1, true, true, false},
	{SKY_DAY, DS_JET, 1, true, true, true},
	{SKY_DUSK, DS_JET, 3, false, true, true},
	{SKY_NIGHT, DS_SAT, 1, false, false, true},
	{SKY_DESERT, DS_TANK, 2, false, true, false},
	{SKY_DUSK, DS_SUB, 1, true, true, false},
	{SKY_NIGHT, DS_SHIP, 1, true, true, false},
	{SKY_DAY, DS_RADAR, 1, false, true, false},
	{SKY_DAY, DS_HELI, 2, false, true, true},
	{SKY_DUSK, DS_MISSILE, 1, false, true, true},
	{SKY_DAY, DS_SHIP, 2, true, true, false},
	{SKY_NIGHT, DS_JET, 2, true, true, true},
};

/*
 * Draws one self-contained SVG (no scripts, no external references, no
 * text) of w x h: a gradient sky, sun or moon and stars, sea or hills, and
 * the scene's silhouettes placed with our PRNG.
 */
static void
demo_svg(struct demo *d, buf *b, int w, int h, const struct demo_scene *sc)
{
	int hy = h * 62 / 100;
	buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\">"
	    "<defs><linearGradient id=\"sky\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
	    "<stop offset=\"0\" stop-color=\"%s\"/><stop offset=\"1\" "
	    "stop-color=\"%s\"/></linearGradient></defs>"
	    "<rect width=\"%d\" height=\"%d\" fill=\"url(#sky)\"/>",
	    w, h, w, h, demo_skies[sc->sky].top, demo_skies[sc->sky].bottom, w, h);
	if (sc->sky == SKY_NIGHT) {
		for (int i = 0; i < 50; i++)
			buf_printf(b, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" "
			    "fill=\"#ffffff\" opacity=\"0.%d\"/>",
			    (int)demo_below(&d->rng, (uint64_t)w),
			    (int)demo_below(&d->rng, (uint64_t)hy),
			    (int)demo_range(&d->rng, 1, 2),
			    (int)demo_range(&d->rng, 3, 9));
		buf_printf(b, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" fill=\"#f3f0d8\"/>",
		    w * 4 / 5, h / 6, h / 14);
	} else {
		buf_printf(b, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" fill=\"#fff4c4\" "
		    "opacity=\"0.85\"/>", w / 6 + (int)demo_below(&d->rng, (uint64_t)w / 2),
		    sc->sky == SKY_DUSK ? hy - h / 12 : h / 6, h / 12);
		for (int i = 0; i < 4; i++)
			buf_printf(b, "<ellipse cx=\"%d\" cy=\"%d\" rx=\"%d\" ry=\"%d\" "
			    "fill=\"#ffffff\" opacity=\"0.5\"/>",
			    (int)demo_below(&d->rng, (uint64_t)w),
			    (int)demo_range(&d->rng, h / 12, hy / 2),
			    (int)demo_range(&d->rng, w / 16, w / 7),
			    (int)demo_range(&d->rng, h / 40, h / 20));
	}
	if (!sc->horizon) {
		/* A planet's limb at the bottom for the orbit scene. */
		buf_printf(b, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" fill=\"#1f4f7a\"/>"
		    "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" fill=\"none\" "
		    "stroke=\"#7fc1ff\" stroke-width=\"3\" opacity=\"0.6\"/>",
		    w / 2, h * 3, h * 23 / 10, w / 2, h * 3, h * 23 / 10);
	} else if (sc->sea) {
		buf_printf(b, "<rect y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>",
		    hy, w, h - hy, demo_skies[sc->sky].sea);
		for (int i = 0; i < 6; i++) {
			int y = hy + (h - hy) * (i + 1) / 8;
			int x = (int)demo_below(&d->rng, (uint64_t)w * 3 / 4);
			buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"2\" "
			    "fill=\"#ffffff\" opacity=\"0.25\"/>", x, y,
			    (int)demo_range(&d->rng, w / 10, w / 4));
		}
	} else {
		buf_printf(b, "<polygon fill=\"%s\" points=\"0,%d",
		    demo_skies[sc->sky].land, hy);
		for (int x = 0; x <= w; x += w / 8)
			buf_printf(b, " %d,%d", x,
			    hy - (int)demo_range(&d->rng, 0, h / 7));
		buf_printf(b, " %d,%d %d,%d 0,%d\"/>", w, hy, w, h, h);
		buf_printf(b, "<rect y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>",
		    hy, w, h - hy, demo_skies[sc->sky].land);
	}
	for (int i = 0; i < sc->count; i++) {
		/* Shapes are 100 wide; scale them to a fraction of the image. */
		int span = w / (sc->count + 1);
		double s = (double)span / 100.0 * (sc->count == 1 ? 1.1 : 0.75);
		int x = span / 3 + i * span + (int)demo_below(&d->rng, (uint64_t)span / 3);
		int y = sc->airborne ? (int)demo_range(&d->rng, h / 8, hy / 2)
				     : hy - (int)(30.0 * s);
		buf_printf(b, "<g fill=\"%s\" transform=\"translate(%d %d) scale(%.3f)\">%s</g>",
		    demo_skies[sc->sky].ink, x, y, s, demo_shapes[sc->shape]);
	}
	buf_puts(b, "</svg>\n");
}

/* Stores the 12 body images and the 6 eyecatches (1200x630). */
static bool
demo_media(struct demo *d)
{
	static const int eye[DEMO_NEYE] = {0, 2, 3, 4, 6, 9};
	char name[32];
	for (int i = 0; i < DEMO_NIMG + DEMO_NEYE; i++) {
		bool is_eye = i >= DEMO_NIMG;
		buf_reset(&d->tmp);
		if (is_eye) {
			demo_svg(d, &d->tmp, 1200, 630, &demo_scenes[eye[i - DEMO_NIMG]]);
			snprintf(name, sizeof(name), "demo-eye-%d.svg", i - DEMO_NIMG + 1);
		} else {
			demo_svg(d, &d->tmp, 800, 450, &demo_scenes[i]);
			snprintf(name, sizeof(name), "demo-img-%d.svg", i + 1);
		}
		if (d->tmp.err) {
			buf_puts(d->err, "demo: SVG too large");
			return false;
		}
		/* With its size, so pages reserve the space (width/height). */
		struct store_media m = {
			.name = name,
			.type = "image/svg+xml",
			.width = is_eye ? 1200 : 800,
			.height = is_eye ? 630 : 450,
			.filename = name,
			.mtime = d->o->now,
		};
		enum store_err e = store_media_add(d->st, &m, d->tmp.ptr,
		    d->tmp.len);
		if (e != STORE_OK)
			return demo_fail(d, "store_media_add", e);
	}
	return true;
}

/* ---- site scaffolding ---------------------------------------------------------------- */

/* Settings, authors, categories and tags; records their ids. */
static bool
demo_scaffold(struct demo *d)
{
	static const struct {
		const char *key, *value;
	} settings[] = {
		{"site.title", "kiji 国際防衛ニュース"},
		{"site.tagline", "安全保障と防衛産業の動きを毎日わかりやすく"},
		{"site.base_url", "http://127.0.0.1:8080"},
		{"site.timezone", "Asia/Tokyo"},
	};
	static const struct store_user users[3] = {
		{.name = "sakura", .display_name = "佐倉 遥", .role = ROLE_ADMIN},
		{.name = "morikawa", .display_name = "森川 航", .role = ROLE_EDITOR},
		{.name = "desk", .display_name = "kiji 編集部", .role = ROLE_AUTHOR},
	};
	enum store_err e;
	for (size_t i = 0; i < DEMO_LEN(settings); i++)
		if ((e = store_setting_set(d->st, settings[i].key, settings[i].value)))
			return demo_fail(d, "store_setting_set", e);
	for (size_t i = 0; i < DEMO_LEN(users); i++)
		if ((e = store_user_add(d->st, &users[i], &d->users[i])))
			return demo_fail(d, "store_user_add (is the database empty?)", e);
	for (int i = 0; i < DC__MAX; i++) {
		struct store_category c = {0, 0, demo_cats[i].slug, demo_cats[i].name,
		    demo_cats[i].desc};
		if ((e = store_category_add(d->st, &c, &d->cats[i])))
			return demo_fail(d, "store_category_add", e);
	}
	for (int i = 0; i < DT__MAX; i++)
		if ((e = store_tag_add(d->st, &demo_tags[i], &d->tags[i])))
			return demo_fail(d, "store_tag_add", e);
	return true;
}

/* `\r[####....] 4200/10000 articles` on stderr, at most ~20 times a second
 * (and always for the last one); the clock only paces drawing. */
static void
demo_progress(struct demo *d, int64_t done)
{
	if (!d->o->progress)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(now.tv_sec - d->drawn.tv_sec) * 1000 +
	    (now.tv_nsec - d->drawn.tv_nsec) / 1000000;
	if (done < d->total && ms < 50)
		return;
	d->drawn = now;
	char bar[31];
	int fill = d->total > 0 ? (int)(done * 30 / d->total) : 30;
	for (int j = 0; j < 30; j++)
		bar[j] = j < fill ? '#' : '.';
	bar[30] = '\0';
	/* Count against the N the user asked for; the few drafts and
	 * scheduled extras only finish the bar. */
	int64_t shown = done < d->o->articles ? done : d->o->articles;
	fprintf(stderr, "\r[%s] %" PRId64 "/%" PRId64 " articles", bar, shown,
	    d->o->articles);
	if (done >= d->total)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Frees what demo_init allocated. */
static void
demo_fini(struct demo *d)
{
	arena_free(d->ar);
	arena_free(d->keep);
	free(d->ids);
	free(d->titles);
	free(d->times);
	free(d->ct);
	free(d->cs);
	free(d->cpar);
	free(d->cdepth);
	free(d->cok);
	buf_free(&d->md);
	buf_free(&d->tmp);
}

bool
site_demo(store *st, const struct site_demo_opts *o, buf *err)
{
	struct demo d = {0};
	bool ok = false, open = false;

	if (o->articles < 0 || o->comments < 0 || o->articles > 100000000) {
		buf_puts(err, "demo: article and comment counts must be >= 0");
		return false;
	}
	d.st = st;
	d.o = o;
	d.err = err;
	demo_seed(&d.rng, o->seed);
	/* Old comments without their IP address, as a running site has them:
	 * else the server's first privacy job rewrites most of a large demo
	 * right after it starts, under whatever is being measured. */
	struct site_conf *conf = conf_load(st);
	long ip_days = conf->num[CONF_PRIVACY_IP_DAYS];
	conf_free(conf);
	d.ip_until = ip_days > 0 ? o->now - (int64_t)ip_days * DEMO_DAY :
	    INT64_MIN;
	d.ar = arena_new(64 * 1024);
	d.keep = arena_new(256 * 1024);
	d.total = o->articles > 0 ? o->articles + DEMO_NDRAFT + DEMO_NSCHED : 0;
	d.ids = xcalloc((size_t)d.total + 1, sizeof(*d.ids));
	d.titles = xcalloc((size_t)o->articles + 1, sizeof(*d.titles));
	d.times = xcalloc((size_t)o->articles + 1, sizeof(*d.times));
	buf_init(&d.md, 0);
	buf_init(&d.tmp, 0);

	/* one transaction per CONTENT_BATCH articles (content_save commits
	 * along the way), with everything written between them */
	if (content_batch_begin(st, DEMO_BATCH_CACHE_MIB) != CONTENT_OK) {
		buf_puts(err, "demo: cannot start writing (database busy?)");
		goto out;
	}
	open = true;
	if (!demo_scaffold(&d) || !demo_media(&d))
		goto out;
	demo_layout_times(&d);
	demo_progress(&d, 0);
	for (int64_t i = 0; i < d.total; i++) {
		if (!demo_article(&d, i))
			goto out;
		demo_progress(&d, i + 1);
	}
	open = false;
	if (content_batch_end(st) != CONTENT_OK) {
		buf_puts(err, "demo: the last commit failed");
		goto out;
	}
	ok = true;
out:
	if (open)
		content_batch_abort(st);
	demo_fini(&d);
	return ok;
}
