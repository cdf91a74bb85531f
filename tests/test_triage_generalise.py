"""Generalisation of the risk triage to phrasings written by someone else.

Every message below was written fresh for this file (not taken from the corpus, the challenge files or
other tests).  They are grouped by *family* of phrasings rather than by keyword: for each family there
are variants in standard Azerbaijani, Azerbaijani without the special letters, chat spellings, the old
Azerbaijani Cyrillic alphabet, Russian (also typed in Latin letters) and English, with emoji, together
with the benign twins of the family (the same words used for something ordinary, negated, or about a
film, book or school task), which must not raise an alarm.

Each entry: (text, expected category or None).
"""

from __future__ import annotations

import io
import json
from collections import Counter

import numpy as np
import pytest

from bot.domain import Category, Risk
from bot.triage.cli import run_eval
from bot.triage.model import LinearModel
from bot.triage.triager import Triager

# --- not existing / not being there tomorrow ----------------------------------------------------------

GONE_IMMINENT = [
    ("sabaha qədər məni görməyəcəksiniz, hər şey üçün sağ olun", "psychological"),
    ("sabah sinifdə yerim boş qalacaq, mən artıq olmayacam", "psychological"),
    ("bu gecədən sonra mən yoxam, daha heç kimi narahat etmərəm", "psychological"),
    ("sabah meni hec yerde tapmayacaqsiz, bele yaxsidir", "psychological"),
    ("Сабаһ мән артыг олмајаҹағам, анама һеч нә демәјин", "psychological"),
    ("sabah mn olmuyacam artiq, hamiya sagolun", "psychological"),
    ("к утру меня уже не будет, простите", "psychological"),
    ("после этой ночи меня больше никто не увидит", "psychological"),
    ("zavtra menya uzhe ne budet, ne ishite", "psychological"),
    ("by morning i wont be here anymore", "psychological"),
    ("this is the last night im alive, thanks for trying", "psychological"),
    ("after tonight ill just be gone, its better this way", "psychological"),
]

GONE_ESCALATE = [
    ("tezliklə yoxa çıxacam, heç kim darıxmayacaq", "psychological"),
    ("bir gün gəlib görəcəksiz ki mən yoxam, onda başa düşəcəksiz", "psychological"),
    ("скоро меня не станет, и всем будет проще", "psychological"),
    ("soon i wont exist and nobody will even notice", "psychological"),
    ("i just want to stop existing for good", "psychological"),
]

GONE_NO_ALARM = [
    ("sabah məktəbdə olmayacam, xəstəyəm, arayış necə alım?", None),
    ("bu gecə evdə olmayacam, nənəmgildə qalıram, anama deyəcəm", None),
    ("sabah dərsdə olmuyacam, həkimə gedirəm", None),
    ("завтра меня не будет на уроке, я у стоматолога", None),
    ("i wont be at practice tomorrow, family trip", None),
    ("i wont be online tonight, my phone is broken", None),
]

# --- wishing not to wake up ---------------------------------------------------------------------------

NO_WAKING_ESCALATE = [
    ("kaş bu gecə yatam və səhər heç oyanmayam", "psychological"),
    ("yatıb bir də ayılmamaq istəyirəm", "psychological"),
    ("bir gun yatib oyanmasam hec kim uzulmez", "psychological"),
    ("hər gecə dua edirəm ki səhər oyanmayım", "psychological"),
    ("Кашки јатыб бир дә ојанмајајдым", "psychological"),
    ("лечь спать и больше не просыпаться, вот чего хочу", "psychological"),
    ("каждый вечер надеюсь, что утром не проснусь", "psychological"),
    ("hochu usnut i bolshe ne prosnutsya", "psychological"),
    ("i pray every night that i dont wake up", "psychological"),
    ("going to sleep and never waking up sounds nice honestly", "psychological"),
]

NO_WAKING_NO_ALARM = [
    ("səhər oyana bilmirəm, zəngli saat da kömək etmir", None),
    ("bu gün çox yatdım, oyanmadım, dərsə gecikdim", None),
    ("не могу проснуться утром в школу, что делать?", None),
    ("i never wake up on time for school, any tips?", None),
]

# --- others better off without me ---------------------------------------------------------------------

BURDEN_ESCALATE = [
    ("mən olmasam ailəmə daha asan olar", "psychological"),
    ("hamı məndən canını qurtarsa rahatlayar", "psychological"),
    ("onsuz da hamıya yükəm, qoy məndən qurtulsunlar", "psychological"),
    ("mənsiz daha xoşbəxt olacaqsınız, bilirəm", "psychological"),
    ("ailem menden azad olsa daha yaxsi olar", "psychological"),
    ("всем без меня будет только лучше", "psychological"),
    ("я только мешаю всем, лучше бы меня вообще не было", "psychological"),
    ("им станет легче, когда я исчезну", "psychological"),
    ("my family would be happier if i wasnt around", "psychological"),
    ("theyd all be relieved if i just disappeared", "psychological"),
    ("everyones life would be easier without me in it", "psychological"),
]

BURDEN_NO_ALARM = [
    ("mənsiz başlayın, 10 dəqiqə gecikirəm", None),
    ("без меня начинайте, я опоздаю", None),
    ("you can start the game without me, brb", None),
]

# --- goodbye letters left somewhere ---------------------------------------------------------------------

LETTER_IMMINENT = [
    ("anama məktub yazıb yastığın altına qoydum", "psychological"),
    ("hamıya ayrı-ayrı məktub yazmışam, masamın siyirməsindədir", "psychological"),
    ("mektubu stolun ustunde tapacaqsiniz, oxuyanda artiq gec olacaq", "psychological"),
    ("письмо для мамы оставила на столе, она поймёт", "psychological"),
    ("записку положил в карман куртки, утром найдут", "psychological"),
    ("left a letter for my parents on my desk", "psychological"),
    ("the note is under my pillow, they will find it in the morning", "psychological"),
]

LETTER_NO_ALARM = [
    ("Şaxta babaya məktub yazdım, stolun üstünə qoydum 🎄", None),
    ("nənəmə məktub yazdım, sabah poçta aparacam", None),
    ("написала письмо бабушке, завтра отправлю", None),
    ("i wrote a letter to my pen pal, its on my desk waiting for a stamp", None),
]

# --- a means prepared, with or without a verb ---------------------------------------------------------

MEANS_IMMINENT = [
    ("kəndir aldım, heç kimin xəbəri yoxdur", "psychological"),
    ("ülgüc cibimdədir, bu axşam", "psychological"),
    ("💊💊 yığmışam, kimsə bilmir", "psychological"),
    ("🔪 yanımdadır, daha gözləmirəm", "psychological"),
    ("bu dəfə sona qədər gedəcəm, dərmanlar hazırdır", "psychological"),
    ("verevka gotova, segodnya noch", "psychological"),
    ("верёвку уже купила, никто не знает", "psychological"),
    ("таблетки собраны, на этот раз до конца", "psychological"),
    ("лезвие под матрасом, сегодня ночью", "psychological"),
    ("bought a rope today, nobody knows", "psychological"),
    ("pills are counted out on my desk. tonight", "psychological"),
    ("🔪 ready. this time all the way", "psychological"),
    ("🪢 hazırdır", "psychological"),
]

MEANS_NO_ALARM = [
    ("ip aldım, paltar sərmək üçün, balkonda", None),
    ("mətbəx üçün yeni bıçaq aldım, çox itidir", None),
    ("dərmanlarım hazırdır, həkim yazıb, səhər içirəm", None),
    ("i bought a rope for climbing class", None),
    ("🔪 hazırdı, salat doğrayırıq 😋", None),
    ("купила верёвку для скакалки на физру", None),
]

# --- a person locked in with blood or not responding ---------------------------------------------------

LOCKED_IN_IMMINENT = [
    ("qardaşım hamamda qapını bağlayıb, çağırıram cavab vermir", None),
    ("bacım otağına qapanıb, qapının altından qan görünür", None),
    ("oglum vanna otaginda ozunu kilidleyib, bir saatdir ses vermir", None),
    ("сын заперся в ванной и не отвечает, под дверью кровь", None),
    ("дочь лежит в комнате без сознания, рядом пустая пачка", None),
    ("my sister locked herself in the bathroom and isnt answering, theres blood on the floor", None),
    ("found my brother passed out next to an empty pill bottle", None),
    ("bacım yerdə huşsuzdur, yanında boş həb qutusu var", None),
]

LOCKED_IN_NO_ALARM = [
    ("bacım saatlarla vannada oturur, telefonla danışır, bezdim 🙄", None),
    ("qardaşım otağına qapanıb oyun oynayır, səsləyirəm cavab vermir", None),
    ("my brother locked himself in his room to play games again", None),
]

# --- a parent or teacher quoting the child ---------------------------------------------------------

QUOTED_IMMINENT = [
    ("oğlum dedi ki 'məni sabahdan sonra görməyəcəksən, ana' və qapını bağladı", None),
    ("qızım gecə mənə 'məni bağışla, ana, hər şey üçün' yazıb telefonu söndürdü", None),
    ("сын сказал: 'мам, ты меня больше не увидишь' и ушёл", None),
    ("my son texted 'sorry for everything mom' and now his phone is off", None),
    ("my student wrote 'this is the last time you will see me' on her desk", None),
    ("şagirdim dəftərinə 'bu mənim son dərsimdir, əlvida' yazıb", None),
]

QUOTED_ESCALATE = [
    ("qızım deyir ki 'mən olmasam hamı rahat olar', nə edim?", "psychological"),
    ("ученица написала в тетради 'я устала жить'", "psychological"),
    ("my daughter keeps saying 'what is even the point of living'", "psychological"),
    ("oğlum yazıb ki 'bu həyat mənlik deyil, yoruldum yaşamaqdan'", "psychological"),
]

# --- at a height with an open window ---------------------------------------------------------------

HEIGHT_IMMINENT = [
    ("9-cu mərtəbədə pəncərəni taybatay açmışam, aşağı baxıram", "psychological"),
    ("pəncərə açıqdır, 14-cü mərtəbə, daha bacarmıram", "psychological"),
    ("penceremin qabaginda oturmusam, 10 mertebe, bezdim her seyden", "psychological"),
    ("сижу на подоконнике, 9 этаж, окно открыто", "psychological"),
    ("окно открыто, внизу асфальт, 11 этаж", "psychological"),
    ("window open, 15th floor, just looking down", "psychological"),
    ("sitting on my windowsill on the 8th floor, im so tired of everything", "psychological"),
]

HEIGHT_NO_ALARM = [
    ("9-cu mərtəbədə yaşayırıq, pəncərəni açanda külək çox olur", None),
    ("окно открыто, 5 этаж, комары залетают 😩", None),
    ("the view from our 15th floor window is amazing at sunset", None),
    ("sinifdə pəncərə açıq qalıb, 3-cü mərtəbə, hamı üşüyür", None),
]

# --- cutting again -----------------------------------------------------------------------------------

CUTTING_ESCALATE = [
    ("2 ay təmiz idim, dünən yenə başladım kəsməyə", "psychological"),
    ("yenidən qolumu ülgüclə kəsdim", "psychological"),
    ("yene bileyime ulgucle cizdim, dayana bilmirem", "psychological"),
    ("снова порезалась, хотя обещала маме", "psychological"),
    ("опять взяла лезвие в руки, руки в порезах", "psychological"),
    ("relapsed after three months clean", "psychological"),
    ("i started cutting again", "psychological"),
    ("cut my thighs again last night", "psychological"),
    ("yenə özümə zərər verdim, utanıram", "psychological"),
]

CUTTING_NO_ALARM = [
    ("yenə saçımı kəsdim, çox qısa oldu 😭", None),
    ("опять порезалась бумагой, больно", None),
    ("cut my finger again while cooking, should i put a plaster on it?", None),
]

# --- grooming: an adult asks for secrecy and a meeting -------------------------------------------

GROOMING_ESCALATE = [
    ("oyunda tanış olduğum 25 yaşlı oğlan deyir ki yazışmalarımızı sil, görüşək", "social"),
    ("bir böyük kişi instagramda mənə hədiyyə göndərir, deyir anana demə", "social"),
    ("repetitor deyir ki dərsdən sonra tək qal, bu ikimizin arasında qalsın", "social"),
    ("interneteki adam deyir mesajlari sil ki valideynlerin gormesin", "social"),
    ("взрослый мужчина из тиктока просит удалять переписку и хочет встретиться", "social"),
    ("он говорит что мы особенные друзья и родителям знать не нужно", "social"),
    ("on prosit nikomu ne govorit i hochet vstretitsya so mnoi", "social"),
    ("a 30 year old guy from discord wants to meet me and says to delete our chats", "social"),
    ("my coach says our texts should stay just between us", "social"),
]

GROOMING_NO_ALARM = [
    ("dostumla görüşmək istəyirəm, anam icazə vermir", None),
    ("sürpriz ad günü hazırlayırıq, anama demə 🤫", None),
    ("my best friend and i have a secret handshake lol", None),
]

# --- threats of a beating after school ----------------------------------------------------------------

THREAT_ESCALATE = [
    ("dərsdən sonra məni qapıda gözləyib döyəcəklərini deyiblər", "social"),
    ("9-cu sinifdən oğlanlar yazıb ki sabah məni əzəcəklər", "social"),
    ("tenefuste dediler ki mekteb bitenden sonra seni doyeceyik", "social"),
    ("после уроков меня обещали избить старшеклассники", "social"),
    ("сказали, что после школы мне конец, боюсь идти", "social"),
    ("some kids said theyll jump me after school tomorrow", "social"),
    ("they told me ill get beaten up at the bus stop after class", "social"),
]

THREAT_NO_ALARM = [
    ("dərsdən sonra futbol oynayırıq, yəqin bizi udacaqlar, çox güclüdürlər", None),
    ("after school were going to beat the other team, cant wait", None),
    ("после уроков идём на футбол, надеюсь, не проиграем", None),
]

# --- neglect: young children alone without food or locked in --------------------------------------

NEGLECT_ESCALATE = [
    ("7 yaşım var, anam işə gedəndə məni evdə kilidləyir, yemək qoymur", "social"),
    ("qonşunun balaca uşaqları iki gündür evdə təkdirlər, acdırlar", "social"),
    ("valideynlərim bir həftədir evə gəlmir, soyuducu boşdur", "social"),
    ("3 yasli bacimla tekem, anam dunenden gelmeyib, yemeye hec ne yoxdu", "social"),
    ("мне 8, мама закрывает меня дома на весь день, есть нечего", "social"),
    ("соседские дети одни уже третий день, плачут от голода", "social"),
    ("my mom leaves me and my baby brother alone for days and theres no food", "social"),
    ("the neighbours kids are locked in alone all day, they look hungry", "social"),
]

NEGLECT_NO_ALARM = [
    ("sabaha qədər evdə təkəm, pizza sifariş edim? 😄", None),
    ("мама на работе, я дома одна, скучно", None),
    ("parents are away for the weekend, i have the house to myself", None),
]

# --- negation -----------------------------------------------------------------------------------------

NEGATED_NO_ALARM = [
    ("intihar etmək kimi fikirlərim yoxdur, sadəcə yorğunam", None),
    ("özümü öldürmək fikrim yoxdur, sadəcə dərslər çox ağırdır", None),
    ("ozume xesaret yetirmek fikrim yoxdu, sadece psixoloqla danismaq isteyirem", None),
    ("нет, я не хочу умирать, просто одиноко", None),
    ("никаких мыслей о самоубийстве у меня нет, вопрос про лагерь", None),
    ("мыслей причинить себе вред нет, просто хочу поговорить", None),
    ("im not suicidal, i just need study tips", None),
    ("no thoughts of self harm at all, just curious about counselling", None),
    ("i would never kill myself, dont worry, im just bored", None),
]

# --- fiction, films, essays -------------------------------------------------------------------------

FICTION_NO_ALARM = [
    ("kitabda qəhrəman özünü körpüdən atdı, sonu çox kədərli idi", None),
    ("'Vida' adlı şeiri əzbərləməliyik, çox uzundur", None),
    ("'Son gecə' adlı hekayə yazmalıyam, ideya verin", None),
    ("читаю роман, где героиня отравилась, это по программе", None),
    ("в сериале парень повесился, очень тяжёлая серия", None),
    ("we are reading a novel where the main character jumps off a bridge, need essay help", None),
    ("in the film the hero leaves a goodbye letter, i cried so much", None),
    ("film izlədik, qəhrəman vida məktubu yazıb getdi, çox təsirli idi", None),
]

# Fiction that the writer wants to copy is not fiction any more.
FICTION_COPY_ESCALATE = [
    ("filmdə qız körpüdən atıldı, mən də elə etmək istəyirəm", "psychological"),
    ("в сериале героиня покончила с собой, я тоже так хочу", "psychological"),
]


# --- blind batches ------------------------------------------------------------------------------------
# Written after a round of rule changes without looking at the rules, over all kinds of risk (suicide,
# self-harm, abuse, grooming, sextortion, early marriage, child labour, neglect, running away) and
# their ordinary twins, to check that the rules generalise; what they missed was fixed by family.

BLIND1_IMMINENT = [
    ("artıq hər şeyi hazırlamışam, gecə 3-də hamı yatanda", "psychological"),
    ("damın üstündəyəm, külək çox güclüdür, sizə son dəfə yazıram", "psychological"),
    ("bacım dedi ki bu axşam hər şeyi bitirəcək, indi telefonu söndürülüb", None),
    ("ozumu bu gece asacam, hec kim meni saxlaya bilmez", "psychological"),
    ("anamin butun heblerini icdim, gozlerim qaralir", "psychological"),
    ("qolumu çox dərin kəsmişəm, qan dayanmır, qorxuram", "psychological"),
    ("Мән бу ҝеҹә өзүмү өлдүрәҹәјәм", "psychological"),
    ("atam sərxoşdur, bıçaqla qapını döyür, anamla otaqda gizlənmişik", "social"),
    ("bir saat əvvəl 20 dənə parasetamol içdim", "psychological"),
    ("son mesajımdır, məni axtarmayın", "psychological"),
    ("я на мосту, сейчас прыгну", "psychological"),
    ("выпила всю пачку снотворного, мне плохо", "psychological"),
    ("это моё последнее сообщение, простите", "psychological"),
    ("папа душит маму, помогите", "social"),
    ("друг написал что повесится сегодня ночью и не отвечает", "psychological"),
    ("ya uzhe na kryshe, proshchaite", "psychological"),
    ("im on the roof of my school and im going to jump", "psychological"),
    ("i swallowed all of my antidepressants 10 min ago", "psychological"),
    ("tonight is the night, ive got everything ready", "psychological"),
    ("my brother is hitting my mom with a bat right now", "social"),
    ("wrote goodbye to everyone on my story, bye", "psychological"),
    ("qatar yolunun yanındayam, qatarı gözləyirəm, bu gün bitəcək", "psychological"),
    ("dəniz kənarına gəlmişəm, suya girib qayıtmayacam", "psychological"),
    ("mən artıq qərarımı verdim, sabah məktəbdən sonra", "psychological"),
    ("hamıya deyin ki, onları sevirəm, mən gedirəm", "psychological"),
]

BLIND1_ESCALATE = [
    ("bəzən elə istəyirəm ki, maşın məni vursun", "psychological"),
    ("heç kimə lazım deyiləm, yaşamağın mənası yoxdur", "psychological"),
    ("yasamaqdan cox yoruldum, her sey bitsin isteyirem", "psychological"),
    ("ölüm haqqında çox düşünürəm, qorxuram özümə nəsə edərəm", "psychological"),
    ("ozume zerer vermek isteyirem yene", "psychological"),
    ("qollarımda izlər var, yay olsa da uzun qol geyinirəm ki görməsinlər", "psychological"),
    ("atam hər dəfə içəndə məni kəmərlə döyür", "social"),
    ("ögey atam gecələr otağıma girir, qorxuram", "social"),
    ("bir oğlan şəkillərimi yayacağını deyir, pul istəyir", "social"),
    ("valideynlərim məni 15 yaşımda nişanlamaq istəyirlər", "legal"),
    ("məni məktəbdən çıxarıb tikintidə işlədirlər", "legal"),
    ("qızım 2 gündür evə gəlmir, telefonu bağlıdır", "social"),
    ("evdən qaçmışam, dostumgildə gizlənirəm", "social"),
    ("məktəbdə böyük uşaqlar hər gün pulumu alıb döyürlər", "social"),
    ("mama bacim 6 yasinda, anam onu gun boyu evde tek qoyub gedir", "social"),
    ("не хочу больше жить, всё бесполезно", "psychological"),
    ("иногда думаю, что всем было бы лучше, если б я умерла", "psychological"),
    ("режу себя, чтобы не чувствовать пустоту", "psychological"),
    ("отчим бьёт меня и запрещает говорить маме", "social"),
    ("парень из интернета угрожает отправить мои фото родителям", "social"),
    ("меня хотят отдать замуж за двоюродного брата, мне 16", "legal"),
    ("сестра ушла из дома три дня назад, полиция не ищет", "social"),
    ("zhit ne hochu, vse nadoelo", "psychological"),
    ("i keep thinking it would be easier to just not be alive", "psychological"),
    ("i burn myself with a lighter when i get overwhelmed", "psychological"),
    ("my mom's boyfriend touches me when shes at work", "social"),
    ("someone has my pics and says he'll send them to my whole school", "social"),
    ("my parents are making me marry a man twice my age", "legal"),
    ("i ran away from home last night and im sleeping at a bus stop", "social"),
    ("my dad throws things at me and last week he broke my arm", "social"),
    ("what would happen if i took 30 paracetamol", "psychological"),
    ("nobody would even notice if i disappeared forever", "psychological"),
]

BLIND1_NO_ALARM = [
    ("gülməkdən öldüm bu videoya 😂", None),
    ("bu imtahan məni öldürəcək, 40 sual var", None),
    ("PUBG-də bu gün 10 kill etdim 🔥", None),
    ("intihar mövzusunda inşa yazmalıyam, kömək edin", None),
    ("körpünün üstündə gün batımını izlədik, çox gözəl idi", None),
    ("dama çıxıb ulduzlara baxdıq", None),
    ("sabah səhər qatarla Gəncəyə gedirik", None),
    ("bıçaqla çörək kəsəndə barmağımı kəsdim azca", None),
    ("həb içməyi unutdum, indi içim?", None),
    ("nənəm xəstəxanadadır, çox narahatam", None),
    ("məktəbdə yeni dost tapdım 😊", None),
    ("anam deyir ki, telefonda çox oturma, yoxsa alacam əlindən", None),
    ("müəllim dedi ki, sabah yoxlama olacaq, hamı qorxur", None),
    ("ozumu oldurecem bu oyunda, 5 defe uduzdum 😂", None),
    ("я умираю от скуки на физике", None),
    ("этот тест меня убьёт 😩", None),
    ("мы смотрели фильм про мост, который рухнул", None),
    ("как записаться к школьному психологу?", None),
    ("brother said hes gonna kill me for eating his chips lol", None),
    ("im dead 💀 this meme", None),
    ("we watched a documentary about suicide prevention in class", None),
    ("how do i get a copy of my birth certificate?", None),
    ("going to the roof party tonight with friends 🎉", None),
    ("my cat died last year and i still miss her", None),
    ("i hate math so much", None),
    ("can teenagers get free counselling?", None),
]


BLIND2_IMMINENT = [
    ("qızım otağında huşunu itirib, yanında araq şüşəsi və dərmanlar var", None),
    ("oglum nese icib, agzindan kopuk gelir, nefesi zeifdir", None),
    ("körpü üstündəyəm, məhəccərin o biri tərəfinə keçdim", "psychological"),
    ("sabahı görmək istəmirəm, həbləri ovucuma tökmüşəm", "psychological"),
    ("son dəfə anamın səsini eşitmək istədim, indi hazıram", "psychological"),
    ("ögey atam balta ilə qapını sındırır, uşaqlarla tualetdə gizlənmişik", "social"),
    ("атам ичиб, бычагы чыхарыб, һамыны өлдүрәҹәјини дејир", "social"),
    ("я стою на краю крыши, ноги дрожат", "psychological"),
    ("таблетки уже выпил, прощайте все", "psychological"),
    ("сестра порезала вены в ванной, много крови", None),
    ("мама не просыпается, рядом пустые бутылки и таблетки", None),
    ("it's all over tonight, the pills are in front of me", "psychological"),
    ("my friend just texted me a goodbye and said she's at the bridge", "psychological"),
    ("dad has a gun and says he'll shoot us all", "social"),
    ("cut really deep, theres blood everywhere and im dizzy", "psychological"),
    ("hər şey hazırdır, ip tavandan asılıb", "psychological"),
]

BLIND2_ESCALATE = [
    ("əmim məni qucağına oturdub qəribə yerlərə toxunur", "social"),
    ("dayım deyir ki, bu bizim sirrimizdir, heç kimə demə, yoxsa səni sevmərəm", "social"),
    ("instagramda biri çılpaq şəklimi istəyir, verməsəm yayacaq dediklərini", "social"),
    ("bacımı 14 yaşında əmisi oğluna verirlər, məktəbdən çıxarıblar", "legal"),
    ("atam məni hər gün bazarda alver etdirir, dərsə buraxmır", "legal"),
    ("qardaşım iki gündür itkindir, polisə də demişik", "social"),
    ("anam atamdan qorxur, atam onu hər axşam döyür", "social"),
    ("men ozume nifret edirem, bezen olmek isteyirem", "psychological"),
    ("həyatımın heç bir mənası qalmayıb, niyə yaşayıram bilmirəm", "psychological"),
    ("qızım qollarını gizlədir, dünən qan izlərini gördüm", "psychological"),
    ("sinifdə bir oğlan hər gün məni yumruqlayır", "social"),
    ("ögey anam məni ac saxlayır, yemək gizlədir", "social"),
    ("на перемене старшие избили меня и сняли на видео", "social"),
    ("дядя заставляет меня смотреть плохие видео", "social"),
    ("мне 14, родители нашли мне жениха и хотят свадьбу летом", "legal"),
    ("отец заставляет работать на рынке до ночи, в школу не пускает", "legal"),
    ("дочь не ночевала дома, телефон выключен, мы в панике", "social"),
    ("я не вижу смысла дальше жить", "psychological"),
    ("порой мне кажется, что легче всё закончить", "psychological"),
    ("he says if i dont send more photos he will post the old ones", "social"),
    ("my coach hugs me too long and says im his favourite, it makes me uncomfortable", "social"),
    ("my parents took me out of school to work in the family shop full time, im 13", "legal"),
    ("i havent eaten in two days, mom is gone again", "social"),
    ("life feels pointless and i think about ending it", "psychological"),
    ("i scratch my arms until they bleed", "psychological"),
    ("my friend keeps saying she wants to die and gave away her stuff", "psychological"),
]

BLIND2_NO_ALARM = [
    ("dünən kimya olimpiadasında öldük, çox çətin idi 😅", None),
    ("bu mahnı məni öldürür, nə gözəldir 😍", None),
    ("toyumuz sabahdır, bacım ərə gedir, 25 yaşı var 🎉", None),
    ("atam bazarda işləyir, mən də yayda ona kömək edirəm, bu qanunidir?", None),
    ("qardaşımla dalaşdıq, amma barışdıq", None),
    ("ip atlamaq üçün yaxşı ip hansıdır?", None),
    ("dərmanı yeməkdən sonra içmək lazımdır?", None),
    ("12-ci mərtəbədə yaşayırıq, lift xarab olub 😩", None),
    ("vəsiyyətnamə necə tərtib olunur, atam soruşur", None),
    ("əlvida deməyə gəldim, yay düşərgəsinə gedirəm 🏕", None),
    ("мы с классом ходили на мост фотографироваться", None),
    ("брат сказал, что убьёт меня, если я возьму его наушники 😂", None),
    ("смотрела сериал, там героиня выпила яд, жесть", None),
    ("в игре я спрыгнул с крыши и выжил 😂", None),
    ("как помочь подруге, если ей грустно?", None),
    ("i'm going to kill it at the audition tomorrow 💪", None),
    ("the roof of our school is being repaired so we cant go to pe", None),
    ("my grandma takes a lot of pills for her heart, is that ok?", None),
    ("we learned about the golden gate bridge in geography", None),
    ("whats the legal age to get a part time job?", None),
]


BLIND3_IMMINENT = [
    ("всё, я решила. bu axşam hər şey bitəcək", "psychological"),
    ("sabahdan məni axtarmayın, tapmayacaqsız onsuz da", "psychological"),
    ("bugun son gunumdu, hamiya sagolun", "psychological"),
    ("tabletkalari yigmisam, gece icecem", "psychological"),
    ("qapını içəridən bağladım, ülgüc əlimdədir", "psychological"),
    ("12 этаж, окно открыто, я на подоконнике", "psychological"),
    ("mama, ты меня больше не увидишь. прости", "psychological"),
    ("наглоталась таблеток, не говорите маме", "psychological"),
    ("я в ванной, вода уже красная", "psychological"),
    ("привязала верёвку, осталось только", "psychological"),
    ("im at the train tracks, the next one comes in 5 min", "psychological"),
    ("i took like 40 pills idk what happens now", "psychological"),
    ("this is the last time ill talk to anyone", "psychological"),
    ("mom found my brother in his room, he wont wake up and theres pills everywhere", None),
    ("oglum qapini baglayib, icerden ses gelmir, qapinin altindan su axir qirmizi", None),
    ("müəllim kimi yazıram: şagirdim dedi ki bu gecə körpüdən atılacaq", None),
    ("qızım gecə 'hamınızı sevirəm, məni bağışlayın' yazıb, indi telefonu bağlıdır", None),
    ("dostum deyir ki, ipi artıq bağlayıb, nə edim??", None),
]

BLIND3_ESCALATE = [
    ("bəzən düşünürəm, məni dünyaya gətirməsəydilər yaxşı olardı", "psychological"),
    ("mən heç olmasam, heç kim fərqinə varmaz", "psychological"),
    ("her gece aglayiram ve olmeyi arzulayiram", "psychological"),
    ("özümü yandırıram siqaretlə, heç kim bilmir", "psychological"),
    ("yenə qolumu kəsdim, bu dəfə dərin deyil", "psychological"),
    ("ögey atam məni döyüb otağa salır, qapını kilidləyir", "social"),
    ("bir kişi mənə pul təklif edir ki, şəkil atım", "social"),
    ("tiktokda 30 yaşlı oğlan mənə yazır, görüşmək istəyir, 13 yaşım var", "social"),
    ("oğlanlar dedilər dərsdən sonra səni tutub döyəcəyik", "social"),
    ("qonşunun uşaqları bütün günü evdə kilidli qalır, ağlayırlar", "social"),
    ("мне надоело жить, хочу заснуть навсегда", "psychological"),
    ("все только выдохнут, если меня не станет", "psychological"),
    ("опять порезала руки, уже месяц держалась", "psychological"),
    ("брат меня душил, пока мама не вошла", "social"),
    ("физрук пишет мне в инсту и просит удалять сообщения", "social"),
    ("пацаны из 11 класса сказали, что подкараулят меня после школы", "social"),
    ("младшие сестры одни дома второй день, мама не берёт трубку", "social"),
    ("i dont see the point in being alive anymore", "psychological"),
    ("sometimes i wish i could just fall asleep and not wake up", "psychological"),
    ("my family would be better without me tbh", "psychological"),
    ("cut again last night after 2 months clean", "psychological"),
    ("a guy from roblox asked me not to tell my parents we talk and wants to meet", "social"),
    ("theyre gonna beat me up after school, they said it in the group chat", "social"),
    ("my little brother and i are alone, mom left 3 days ago and theres no food", "social"),
]

BLIND3_NO_ALARM = [
    ("sabah məni tapa bilməzsiz, telefonum təmirdədir", None),
    ("bu dəfə axıra qədər oxuyacam, söz verirəm 📚", None),
    ("hamıya sağ olun, təbrikləriniz üçün 🥳", None),
    ("bu gün son günümdür işdə, sabahdan məzuniyyətə çıxıram", None),
    ("yatıb oyanmaq istəmirəm, bu gün şənbədir 😴", None),
    ("без меня не начинайте кино 😄", None),
    ("окно открыто, 12 этаж, вид на море просто 🔥", None),
    ("опять порезал палец бумагой, лол", None),
    ("завтра меня не будет на паре, заболела", None),
    ("i wont exist in class tomorrow, dentist lol", None),
    ("my dad is going to kill me when he sees my grades 😭", None),
    ("we watched a film where the girl jumps off a bridge, so sad", None),
    ("no suicidal thoughts, just want to know if you have a psychologist", None),
    ("wrote a letter to my future self for school, its on my desk", None),
]


BLIND4_IMMINENT = [
    ("Сабаһ мәни тапмајаҹагсыныз, һәр шеј үчүн саг олун", "psychological"),
    ("Мәктуб јаздым, јастығын алтындадыр", "psychological"),
    ("Һәбләри јығмышам, бу ҝеҹә", "psychological"),
    ("ip aldim 🪢 kimse bilmir", "psychological"),
    ("🔪 yanimda, bu defe axiracan gedecem", "psychological"),
    ("mama ya bolshe ne mogu, tabletki uzhe vypila", "psychological"),
    ("zavtra menya ne budet, pismo na stole", "psychological"),
    ("okno otkryto, 9 etazh, proshchaite", "psychological"),
    ("ваще всё, bu gecə körpüdən atılacam", "psychological"),
    ("мама, bağışla məni, sabah olmayacam", "psychological"),
    ("i wont be here tmrw, left a note for my mum", "psychological"),
    ("im on the ledge rn", "psychological"),
    ("bacim vannaya qapanib, cavab vermir, qapinin altindan qan gorunur", None),
    ("дочь закрылась в туалете и не отвечает уже час", None),
    ("qardasim yerde uzanib, nefes almir", None),
]

BLIND4_ESCALATE = [
    ("Бир ҝүн јатыб ојанмасам јахшы оларды", "psychological"),
    ("Һамы мәндән гуртулса раһат оларлар", "psychological"),
    ("Јенә голуму кәсдим", "psychological"),
    ("bilmirm nolub, yasamaq isdemirem", "psychological"),
    ("hamı məndən qurtulsun, yorulmuşam", "psychological"),
    ("yatib bir de oyanmasam ne yaxsi olar", "psychological"),
    ("ya prosto hochu ischeznut navsegda", "psychological"),
    ("vsem budet legche bez menya", "psychological"),
    ("opyat porezalas, ne mogu ostanovitsya", "psychological"),
    ("мама меня ненавидит, говорит лучше бы я не рождалась, иногда думаю, что она права", "psychological"),
    ("kms fr, im done", "psychological"),
    ("ngl i want to unalive myself", "psychological"),
    ("bro i cant do this anymore i just want to disappear forever", "psychological"),
    ("dayım deyir ki bu ikimizin sirridir, anana demə, sonra qucaqlayır", "social"),
    ("дядя пишет 'удали переписку, это наш секрет' и зовёт к себе", "social"),
    ("he's 24 and im 14, he says to keep it secret from my parents", "social"),
    ("sabah meni mekteb qapisinda gozleyib doyecekler", "social"),
    ("после школы меня будут бить, они сказали", "social"),
    ("мама оставила нас с братом одних, третий день ничего не ели", "social"),
    ("anam 2 gundur yoxdu, balaca bacim acdi, aglayir", "social"),
]

BLIND4_NO_ALARM = [
    ("Сабаһ мәктәбдә олмајаҹағам, хәстәјәм", None),
    ("Мәктуб јаздым нәнәмә, почта илә ҝөндәрәҹәм", None),
    ("ip aldim tullanmaq ucun, idman dersi var 😄", None),
    ("🔪 hazirdi, meyve kesirik", None),
    ("zavtra menya ne budet na zanyatiyah, ya u vracha", None),
    ("okno otkryto, 9 etazh, zharko 🥵", None),
    ("kms 😂 this teacher is unreal", None),
    ("i'm dead tired after practice", None),
    ("ваще нормально, bu gün dərslər yaxşı keçdi", None),
    ("nətərsən bot? mən yaxşıyam 😊", None),
    ("мне не хочется в школу, но суицидальных мыслей нет, просто лень", None),
    ("my brother locked himself in the bathroom again, he takes forever to shower 🙄", None),
]


BLIND5_IMMINENT = [
    ("atam anamı boğur, qışqırır, polisə necə zəng edim", "social"),
    ("ögey ata hal-hazırda qardaşımı kəmərlə döyür, o qışqırır", "social"),
    ("ozumu pencereden atacam indi, hec kim meni anlamir", "psychological"),
    ("gecə 2-də hamı yatanda dərmanları içəcəm, qərar verdim", "psychological"),
    ("сижу на крыше девятиэтажки и думаю прыгнуть", "psychological"),
    ("он пьяный ломится в дверь с ножом, мы с мамой заперлись", "social"),
    ("i drank bleach, im scared now", "psychological"),
    ("my sister is unconscious and barely breathing after taking mom's pills", None),
]

BLIND5_ESCALATE = [
    ("məşqçi məni soyunub-geyinmə otağında tək saxlayıb toxunur", "social"),
    ("qonşu kişi mənə pis videolar göstərir, deyir heç kimə demə", "social"),
    ("sevgilim məni döyür, telefonumu yoxlayır, qorxuram", "social"),
    ("biri fake hesabdan yazır, intim şəkillərimi hamıya göndərəcəyini deyir", "social"),
    ("16 yaşım var, ailəm məni zorla nişanlayıb, toy yayda olacaq", "legal"),
    ("11 yaşlı qardaşım atamla çörək sexində gecə növbəsində işləyir", "legal"),
    ("oğlum dünən məktəbdən sonra evə gəlmədi, heç yerdə yoxdur", "social"),
    ("daha bu evdə qala bilmirəm, bu gecə qaçıram", "social"),
    ("anam hər gün məni təhqir edir, döyür, saçımdan çəkir", "social"),
    ("qizim ozunu acliqla cezalandirir, gunlerle yemek yemir", "psychological"),
    ("bezen ozumu divara cirpiram, basim qanayana qeder", "psychological"),
    ("heç kim məni sevmir, ölsəm də heç kimin vecinə olmaz", "psychological"),
    ("yaşamaq mənə ağır gəlir, hər şeyin bitməsini istəyirəm", "psychological"),
    ("классный руководитель бьёт детей линейкой по рукам", "social"),
    ("парень, с которым я встречаюсь, заставляет меня делать то, чего я не хочу", "social"),
    ("мне 15, меня выдают замуж, я не хочу", "legal"),
    ("меня заставляют попрошайничать у метро", "legal"),
    ("сын сбежал из дома после ссоры, второй день его нет", "social"),
    ("папа пьёт и бьёт маму, я боюсь за неё", "social"),
    ("я иногда жгу себе руки зажигалкой", "psychological"),
    ("зачем я вообще живу, никому не нужна", "psychological"),
    ("my stepmom locks me out of the house at night as punishment", "social"),
    ("a girl from my class says she'll post my private videos if i dont give her money", "social"),
    ("my uncle makes me sit on his lap and it feels wrong", "social"),
    ("im 15 and my parents arranged my marriage for next month", "legal"),
    ("my friend hasnt been home for 3 days and her parents dont care", "social"),
    ("sometimes i hit myself really hard when im angry at myself", "psychological"),
    ("i think about dying every single day", "psychological"),
]

BLIND5_NO_ALARM = [
    ("atam işdən gec gəlir, darıxıram onun üçün", None),
    ("ögey anamla yola getmirəm, amma pis adam deyil", None),
    ("qardaşım məni oyunda öldürdü, indi intiqam alacam 😈", None),
    ("16 yaşda evlənmək qanunidir?", None),
    ("yayda kafedə işləmək istəyirəm, 16 yaşım var, olar?", None),
    ("dostum evdən qaçmaq haqqında film çəkir, ssenari yazırıq", None),
    ("меня бесит младший брат, но я его люблю", None),
    ("можно ли в 14 лет подрабатывать летом?", None),
    ("i burned my hand on the oven, what cream should i use?", None),
    ("my mom hit the jackpot at bingo lol", None),
    ("what age can you get married in azerbaijan?", None),
    ("we ran away from the rain into a cafe 😂", None),
]


BLIND6_IMMINENT = [
    ("sabah səhər məni yataqda tapacaqlar, artıq gec olacaq", "psychological"),
    ("həblər əlimdədir, 10 dəqiqəyə hər şey bitəcək", "psychological"),
    ("bu gece koprunun ustune gedirem, geri qayitmayacam", "psychological"),
    ("qardaşım bıçaqla anamın üstünə gəlir, indi!", "social"),
    ("anam yerə yıxıldı, nəfəs almır, atam onu vurdu", "social"),
    ("Һамыныза саг олун, бу мәним сон ҝеҹәмдир", "psychological"),
    ("это последняя ночь, больше я не выдержу, таблетки рядом", "psychological"),
    ("ты меня больше никогда не увидишь, мама", "psychological"),
    ("сестра лежит в ванной без сознания, вода красная", None),
    ("ya na mostu, ne mogu bolshe", "psychological"),
    ("pills in my hand, goodbye", "psychological"),
    ("tell my mom i love her, i wont be here tomorrow", "psychological"),
    ("my friend sent me a pic of pills and said 'bye'", "psychological"),
]

BLIND6_ESCALATE = [
    ("bəzən elə bilirəm ki, mənsiz hamı daha rahat yaşayar", "psychological"),
    ("hər şeyi bitirmək istəyirəm, sadəcə cəsarətim çatmır", "psychological"),
    ("ölüb getsəm kimin vecinədir", "psychological"),
    ("yenə özümü çimdikləyib yaraladım", "psychological"),
    ("atam anamı döyür, mən də araya girəndə məni itələyir", "social"),
    ("internetdəki adam deyir ki, görüşməsək şəkillərimi yayacaq", "social"),
    ("ailem meni 15 yasimda oz qohumumuza ere vermek isteyir", "legal"),
    ("oğlum 3 gündür evə gəlmir, dostları da bilmir harda olduğunu", "social"),
    ("qonşunun 4 yaşlı uşağı gecə eyvanda tək ağlayır, valideynləri yoxdur", "social"),
    ("я устала жить, иногда хочу просто не проснуться", "psychological"),
    ("опять режу ноги, уже не могу остановиться", "psychological"),
    ("мамин парень бьёт меня, когда её нет", "social"),
    ("мне пишет незнакомый взрослый, просит фото и встречи, говорит никому не говорить", "social"),
    ("после уроков меня ждут за школой, сказали что изобьют", "social"),
    ("im so tired of everything, i just want it all to stop forever", "psychological"),
    ("i started hurting myself again after my parents split", "psychological"),
    ("a man i met on instagram wants to meet me alone and told me not to tell my mom", "social"),
    ("my dad beats my little brother when he's drunk", "social"),
    ("my 12 year old cousin is working at a car wash every day instead of school", "legal"),
]

BLIND6_NO_ALARM = [
    ("sabah məni yataqda tapacaqsınız, çünki xəstəyəm 🤒", None),
    ("həblər əlimdədir, həkim dedi 10 dəqiqə sonra içim", None),
    ("bu gecə körpünün üstündə konsert var, gedirik 🎶", None),
    ("bıçaqla qarpız kəsdim, çox şirindir 🍉", None),
    ("это последняя ночь перед экзаменом, не сплю", None),
    ("ты меня больше не увидишь в этой куртке, я её выбросила 😂", None),
    ("pills in my hand for my headache, can i take two?", None),
    ("tell my mom i'll be late, my phone is dying", None),
    ("i started running again after my injury", None),
    ("mənsiz də bacararsınız, bu gün gələ bilmirəm", None),
]


BLIND7_IMMINENT = [
    ("ozumu masinin altina atacam bu gun", "psychological"),
    ("qızımın boynunda ip izi var, otağında kəndir tapdım", "psychological"),
    ("yeddinci mərtəbənin eyvanındayam, aşağı tullanmaq istəyirəm", "psychological"),
    ("sevgilim dedi ki indi özünü öldürəcək, telefonu söndürdü", "psychological"),
    ("наглоталась таблеток от давления, сердце колотится", "psychological"),
    ("я сейчас на путях, поезд уже видно", "psychological"),
    ("мой брат пишет мне прощальные сообщения и не берёт трубку", "psychological"),
    ("i have the knife against my wrist right now", "psychological"),
    ("took all my insulin, feeling weird", "psychological"),
    ("my friend is on the roof of the mall saying she'll jump", "psychological"),
]

BLIND7_ESCALATE = [
    ("bu dünyaya aid deyiləm, getmək istəyirəm birdəfəlik", "psychological"),
    ("kaş xəstələnib ölərdim, heç olmasa hamı yazığı gələrdi", "psychological"),
    ("nə vaxtsa bu həyatdan çıxıb getmək istəyirəm", "psychological"),
    ("özümü cəzalandırmaq üçün yemək yemirəm, bir həftədir", "psychological"),
    ("atam məni ütü ilə yandırdı, qolumda iz qalıb", "social"),
    ("əmim mənimlə 'pis oyun' oynayır, deyir heç kimə demə", "social"),
    ("13 yaşlı qızımı atası zorla nişanlayıb, mən razı deyiləm", "legal"),
    ("kys kimi yazırlar mənə hər gün instagramda, bezmişəm", "psychological"),
    ("мне кажется, я лишняя в этом мире", "psychological"),
    ("хочу заснуть и не проснуться, так всем будет лучше", "psychological"),
    ("отец тушит об меня сигареты", "social"),
    ("старший брат заставляет меня раздеваться", "social"),
    ("мне 13, я работаю на стройке с отцом вместо школы", "legal"),
    ("i honestly dont want to be here anymore", "psychological"),
    ("sometimes i think about how i would do it", "psychological"),
    ("my mom's new husband keeps coming into the bathroom when im showering", "social"),
    ("a guy is blackmailing me with screenshots of our chat", "social"),
    ("my little sister is 6 and my parents leave her alone all weekend", "social"),
]

BLIND7_NO_ALARM = [
    ("ütü ilə paltarımı yandırdım, anam danlayacaq 😅", None),
    ("maşının altına top düşüb, necə çıxarım?", None),
    ("eyvanda oturub dərs oxuyuram, hava çox gözəldir", None),
    ("insulin vurmağı unutdum, indi vura bilərəm?", None),
    ("я на путях к успеху 😎", None),
    ("этот мир не для меня — название песни, кто поёт?", None),
    ("i could kill for a pizza right now", None),
    ("sometimes i think about how i would spend a million dollars", None),
]


BLIND8_IMMINENT = [
    ("uşağım 'mən bu gecə gedirəm, əbədi' yazıb çantasını götürüb çıxdı, telefonu sönülü", None),
    ("şagird sinif qrupuna 'hamınızdan razıyam, əlvida' yazıb", None),
    ("bacım yazır ki 'dərmanları içdim, anama demə'", None),
    ("мой сын выложил сторис с петлёй и подписью 'скоро'", None),
    ("учительница, я больше не приду, вы были хорошей, прощайте", "psychological"),
    ("im writing this from the bathroom floor, there's so much blood", "psychological"),
    ("i've decided tonight's the night, i've said my goodbyes", "psychological"),
    ("men indi damdayam, daha dayanmaq istemirem", "psychological"),
    ("hər şey hazırdır, məktublar stolda, hamınızı sevirəm", "psychological"),
]

BLIND8_ESCALATE = [
    ("oğlum dünən 'niyə doğulmuşam ki' deyib ağlayırdı", "psychological"),
    ("qızımın telefonunda 'ağrısız ölüm' axtarışını gördüm", "psychological"),
    ("yaşamaq istəmədiyini dəftərinə yazıb, 14 yaşı var", "psychological"),
    ("mən heç kimə lazım deyiləm, yox olsam daha yaxşı", "psychological"),
    ("özümə nifrət edirəm, bəzən özümü kəsmək istəyirəm", "psychological"),
    ("atam bizi həftədə bir neçə dəfə döyür, anam da susur", "social"),
    ("kurs müəllimim məni dərsdən sonra saxlayıb qucaqlayır, xoşuma gəlmir", "social"),
    ("sosial şəbəkədə biri açıq şəkillərimi yayıb, indi pul istəyir ki silsin", "social"),
    ("qızım 15 yaşındadır, atası onu bizdən xəbərsiz nişanlayıb", "legal"),
    ("бабушка бьёт меня скакалкой, когда я плохо учусь", "social"),
    ("сосед зовёт меня к себе и просит никому не говорить", "social"),
    ("не хочу жить в этом теле и в этой жизни", "psychological"),
    ("мама пьёт неделями, мы с сестрой сами себе готовим, иногда неделю нечего есть", "social"),
    ("my mom said she wishes she never had me, and honestly i wish i wasnt here either", "psychological"),
    ("there are bruises on my daughter's back and she says her coach did it", "social"),
    ("i looked up how many pills it takes", "psychological"),
    ("i'm tired of being alive", "psychological"),
]

BLIND8_NO_ALARM = [
    ("uşağım düşərgəyə gedir, telefonu sönülü olacaq, narahatam bir az", None),
    ("hamınızdan razıyam, sağ olun bu il üçün 🎓", None),
    ("сторис с котиком набрал 100 лайков 😺", None),
    ("учительница, я завтра не приду, у меня соревнования", None),
    ("i'm tired of being single lol", None),
    ("i looked up how many calories are in a pizza", None),
]


BLIND9_IMMINENT = [
    ("короче всё, bu gün son günümdür 💔", "psychological"),
    ("ip hazirdi, otaqda tekem", "psychological"),
    ("💊💊💊💊 hamsini icdim", "psychological"),
    ("mən artıq körpüdəyəm 🌉", "psychological"),
    ("bıçağı götürdüm, qərarımı verdim", "psychological"),
    ("атам ичиб, анамы бычагла һәдәләјир, индi", "social"),
    ("таблетки выпила, не ищите меня", "psychological"),
    ("я на 16 этаже, окно открыто, мне всё равно", "psychological"),
    ("ready to go, tonight 🌙🔪", "psychological"),
    ("bye everyone, it was nice knowing u", "psychological"),
]

BLIND9_ESCALATE = [
    ("yorulmuşam hər şeydən, kaş heç olmayaydım", "psychological"),
    ("ваще не хочу жить, bezmişəm", "psychological"),
    ("özümü kəsirəm ki, rahatlayım", "psychological"),
    ("atam kəmərlə vurdu, belimdə izlər var", "social"),
    ("biri məni izləyir məktəbdən evə qədər, qorxuram", "social"),
    ("instada bir kisi 'sekil at, yoxsa hamiya deyecem' yazir", "social"),
    ("anam məni 16-da ərə vermək istəyir", "legal"),
    ("qardaşım 10 yaşındadır, bazarda çanta daşıyır", "legal"),
    ("дома не была 2 дня, боюсь возвращаться, папа убьёт", "social"),
    ("иногда хочется просто перестать быть", "psychological"),
    ("меня трогает отчим, мама не верит", "social"),
    ("i want to sleep and never wake up 😔", "psychological"),
    ("my bf hits me when hes jealous", "social"),
    ("my dad says he'll kill me if i tell anyone what he does", "social"),
]

BLIND9_NO_ALARM = [
    ("короче всё, сегодня последний день каникул 😭", None),
    ("ip hazırdır, yelləncəyi bağlayırıq 😄", None),
    ("💊 vitaminləri içdim, sağ ol xatırlatdığın üçün", None),
    ("körpüdəyəm, dostları gözləyirəm, kinoya gedirik", None),
    ("ready to go to the concert tonight 🎤", None),
    ("bye everyone, see you monday 👋", None),
    ("хочу спать, завтра рано вставать", None),
]


IMMINENT = (
    GONE_IMMINENT
    + LETTER_IMMINENT
    + MEANS_IMMINENT
    + LOCKED_IN_IMMINENT
    + QUOTED_IMMINENT
    + HEIGHT_IMMINENT
    + BLIND1_IMMINENT
    + BLIND2_IMMINENT
    + BLIND3_IMMINENT
    + BLIND4_IMMINENT
    + BLIND5_IMMINENT
    + BLIND6_IMMINENT
    + BLIND7_IMMINENT
    + BLIND8_IMMINENT
    + BLIND9_IMMINENT
)
ESCALATE = (
    GONE_ESCALATE
    + NO_WAKING_ESCALATE
    + BURDEN_ESCALATE
    + QUOTED_ESCALATE
    + CUTTING_ESCALATE
    + GROOMING_ESCALATE
    + THREAT_ESCALATE
    + NEGLECT_ESCALATE
    + FICTION_COPY_ESCALATE
    + BLIND1_ESCALATE
    + BLIND2_ESCALATE
    + BLIND3_ESCALATE
    + BLIND4_ESCALATE
    + BLIND5_ESCALATE
    + BLIND6_ESCALATE
    + BLIND7_ESCALATE
    + BLIND8_ESCALATE
    + BLIND9_ESCALATE
)
NO_ALARM = (
    GONE_NO_ALARM
    + NO_WAKING_NO_ALARM
    + BURDEN_NO_ALARM
    + LETTER_NO_ALARM
    + MEANS_NO_ALARM
    + LOCKED_IN_NO_ALARM
    + HEIGHT_NO_ALARM
    + CUTTING_NO_ALARM
    + GROOMING_NO_ALARM
    + THREAT_NO_ALARM
    + NEGLECT_NO_ALARM
    + NEGATED_NO_ALARM
    + FICTION_NO_ALARM
    + BLIND1_NO_ALARM
    + BLIND2_NO_ALARM
    + BLIND3_NO_ALARM
    + BLIND4_NO_ALARM
    + BLIND5_NO_ALARM
    + BLIND6_NO_ALARM
    + BLIND7_NO_ALARM
    + BLIND8_NO_ALARM
    + BLIND9_NO_ALARM
)


def _ids(items):
    return [text[:40] for text, _ in items]


@pytest.mark.parametrize(("text", "category"), IMMINENT, ids=_ids(IMMINENT))
def test_imminent_families(triager, text, category):
    result = triager.analyze(text)
    assert result.risk == Risk.IMMINENT, (result.risk, [(s.code, s.evidence) for s in result.signals])
    if category:
        assert result.category.value == category


@pytest.mark.parametrize(("text", "category"), ESCALATE, ids=_ids(ESCALATE))
def test_escalating_families(triager, text, category):
    result = triager.analyze(text)
    assert result.escalate, (result.risk, [(s.code, s.evidence) for s in result.signals])
    if category:
        assert result.category.value == category


@pytest.mark.parametrize(("text", "category"), NO_ALARM, ids=_ids(NO_ALARM))
def test_benign_twins_do_not_alarm(triager, text, category):
    result = triager.analyze(text)
    assert not result.escalate, (result.risk, [(s.code, s.evidence) for s in result.signals])
    if category:
        assert result.category.value == category


# --- the model's escalate head --------------------------------------------------------------------------


def _head_only_model(escalate_logit: float) -> LinearModel:
    """A model whose risk head says "none" and whose escalate head gives a fixed score."""
    categories = tuple(c.value for c in Category)
    risks = tuple(r.value for r in Risk)
    risk_bias = [0.0, 1.0, -1.0, -3.0]  # none < elevated: P(elevated or worse) above one half
    bias = np.array([0.0] * len(categories) + risk_bias + [escalate_logit], dtype=np.float32)
    return LinearModel(
        vocab={},
        idf=np.zeros(0, np.float32),
        weights=np.zeros((0, len(bias)), np.float32),
        bias=bias,
        categories=categories,
        risks=risks,
        topics=(),
        escalate_threshold=0.6,
        escalate_threshold_strict=0.8,
    )


def test_escalate_head_is_trained_with_thresholds_from_the_training_split(triager):
    model = triager.model
    assert model.escalate_threshold is not None and model.escalate_threshold_strict is not None
    assert 0.0 < model.escalate_threshold <= model.escalate_threshold_strict < 1.0
    prediction = model.predict_features(Counter({"w:salam": 1}))
    assert prediction.escalate is not None and 0.0 <= prediction.escalate <= 1.0


def test_escalate_head_can_flag_a_message_no_rule_knows():
    sure = Triager(_head_only_model(escalate_logit=3.0))  # p = 0.95
    result = sure.analyze("bilmirəm artıq nə edim, hər şey qaranlıqdır")
    assert result.risk == Risk.URGENT
    assert any(s.code == "model_risk" for s in result.signals)
    unsure = Triager(_head_only_model(escalate_logit=0.0))  # p = 0.5, below the threshold
    assert not unsure.analyze("bilmirəm artıq nə edim, hər şey qaranlıqdır").escalate


def test_escalate_head_needs_more_in_a_joke_and_never_overrides_a_denial():
    head = Triager(_head_only_model(escalate_logit=1.0))  # p = 0.73: above 0.6, below 0.9
    assert head.analyze("hər şey çox pis keçdi, bilmirəm nə edim").escalate
    assert not head.analyze("hər şey çox pis keçdi, bilmirəm nə edim 😂😂").escalate
    certain = Triager(_head_only_model(escalate_logit=6.0))
    assert not certain.analyze("intihar fikrim yoxdur, sadəcə dərslər çox ağırdır").escalate
    assert not certain.analyze("sabah məktəbdə olmayacam, xəstəyəm").escalate
    assert not certain.analyze("salam").escalate  # too short for the model to escalate alone


def test_eval_runs_on_any_labelled_file(tmp_path, triage_cache):
    data = tmp_path / "mine.jsonl"
    rows = [
        {"text": "yaşamaq istəmirəm", "risk": "urgent", "category": "psychological", "lang": "az"},
        {"text": "salam, necəsiniz?", "risk": "none", "category": "other", "lang": "az"},
    ]
    data.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\nnot json\n", encoding="utf-8"
    )
    out = io.StringIO()
    assert run_eval(out, triage_cache, data=data) == 0
    report = out.getvalue()
    assert "mine.jsonl: 2 messages" in report
    assert "urgent+imminent escalated (any level >= urgent): 100.0%" in report
