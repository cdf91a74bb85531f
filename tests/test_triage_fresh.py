"""Triage on fresh messages written for these tests, NOT taken from the corpus.

Each entry: (text, expected category or None).  They mix spellings (with and without the special
letters, Azerbaijani Cyrillic, chat spellings), Russian, English and emoji; several batches were
written "blind" after a round of rule changes, to check that the rules generalise.
"""

from __future__ import annotations

import pytest

from bot.domain import Risk

IMMINENT = [
    ("anamın yuxu dərmanlarını gizlətmişəm, gecə hamı yatandan sonra içəcəm", "psychological"),
    ("artıq qərarımı vermişəm, sabah səhər məktəb əvəzinə körpüyə gedəcəm", "psychological"),
    ("ozumu asmaq ucun ip almisam, bu gece evde hec kim olmayacaq", "psychological"),
    ("12-ci mərtəbədəyəm, balkonun kənarında oturmuşam, aşağı baxıram", "psychological"),
    ("bir ovuc həb uddum, indi ürəyim bulanır, qorxuram", "psychological"),
    ("hamınızı çox sevirəm, məni bağışlayın. bu mənim son yazımdır", "psychological"),
    ("qolumu dərin kəsdim, qan çox axır, dayanmır", "psychological"),
    ("Бу ҝеҹә һәр шеј битәҹәк, һәбләр һазырдыр", "psychological"),
    ("dostum telefonda dedi ki damdan tullanacaq, indi harada olduğunu bilmirəm", "psychological"),
    ("atam əlində bıçaq anamın üstünə gedir, qorxuram", "social"),
    ("ögey atam indi məni döyür, otaqda gizlənmişəm, kömək edin", "social"),
    ("qardaşım huşsuz yerdə uzanıb, nəsə içib, oyanmır", None),
    ("💊💊 bu gecə hər şey bitəcək. əlvida", "psychological"),
    ("relslərin üstündə dayanmışam, qatarı gözləyirəm", "psychological"),
    ("vidalaşmaq üçün yazıram, sizə təşəkkür edirəm, sabah mən olmayacam", "psychological"),
    ("ozumu pencereden atmaq isdiyirem, pencereni acmisam artiq", "psychological"),
    ("накопил снотворное, выпью всё сегодня ночью", "psychological"),
    ("стою на крыше своего дома, больше не могу так жить", "psychological"),
    ("я уже наглоталась таблеток, голова кружится", "psychological"),
    ("это прощальное сообщение, простите меня все", "psychological"),
    ("папа пьяный избивает маму прямо сейчас, я закрылась в ванной", "social"),
    ("брат не дышит, он что-то принял, что делать", None),
    ("у меня в руке лезвие, сегодня я закончу всё", "psychological"),
    ("сегодня ночью повешусь, верёвка уже есть", "psychological"),
    ("подруга написала что прыгнет с моста и не берёт трубку", "psychological"),
    ("i took a whole bottle of pills 20 minutes ago", "psychological"),
    ("im standing on the bridge right now, i cant do this anymore", "psychological"),
    ("this is goodbye. i love you mom, im sorry", "psychological"),
    ("i have a rope ready and nobody is home tonight", "psychological"),
    ("my stepdad is beating my mom right now and he has a knife", "social"),
    ("going to jump off the roof tonight", "psychological"),
    ("cut too deep this time, the bleeding wont stop", "psychological"),
]

URGENT = [
    ("bəzən fikirləşirəm ki yaşamağın heç mənası yoxdur, ölsəm yaxşı olar", "psychological"),
    ("yasamaqdan bezmisem, niye yasayiram bilmirem", "psychological"),
    ("hər gecə ölüm haqqında düşünürəm", "psychological"),
    ("özümə zərər verirəm, qollarımı cızıram", "psychological"),
    ("ozumu kesirem gizli, hec kim bilmir", "psychological"),
    ("atam hər axşam sərxoş gəlib bizi döyür", "social"),
    ("dayım mənə pis yerlərdən toxunur, heç kimə deyə bilmirəm", "social"),
    ("internetdə bir kişi çılpaq şəkil istəyir, yoxsa şəkillərimi yayacağını deyir", "social"),
    ("məni 16 yaşımda əmim oğluna ərə verirlər, istəmirəm", "legal"),
    ("oğlum 2 gündür evə gəlmir, telefonu sönülüdür", "social"),
    ("evdən qaçmaq istəyirəm, daha bu evdə qala bilmirəm", "social"),
    ("bacım deyir ki yaşamaq istəmir, ona necə kömək edim", "psychological"),
    ("qonşunun uşaqları ac qalır, anaları onlara heç baxmır", "social"),
    ("12 yaşım var, bazarda yük daşıyıram, məktəbə getmirəm", "legal"),
    ("Мән өзүмү өлдүрмәк истәјирәм", "psychological"),
    ("kaş yatıb bir də oyanmayaydım", "psychological"),
    ("intihar barədə çox fikirləşirəm son vaxtlar", "psychological"),
    ("men olsem hami rahat nefes alar", "psychological"),
    ("canima qiymaq isteyirem", "psychological"),
    ("я больше не хочу жить, всё бессмысленно", "psychological"),
    ("иногда думаю покончить с собой", "psychological"),
    ("режу руки когда плохо", "psychological"),
    ("отец бьет меня ремнем каждый день", "social"),
    ("отчим трогает меня когда мамы нет дома", "social"),
    ("угрожают выложить мои фото если не заплачу", "social"),
    ("меня хотят выдать замуж в 15 лет", "legal"),
    ("хочу уснуть и не проснуться", "psychological"),
    ("лучше бы я вообще не рождалась", "psychological"),
    ("i dont want to be alive anymore", "psychological"),
    ("sometimes i think everyone would be better off if i was dead", "psychological"),
    ("ive been cutting myself again", "psychological"),
    ("my dad hits me when hes angry", "social"),
    ("a guy online says he will send my pictures to my school unless i pay him", "social"),
    ("my uncle touches me and says its our secret", "social"),
    ("i think about killing myself every day", "psychological"),
    ("my friend told me she wants to end her life", "psychological"),
]

ELEVATED = [
    ("çox tənhayam, heç kimlə danışmıram", "psychological"),
    ("sinif yoldaşlarım məni ələ salır, mənə ləqəb qoyublar", "psychological"),
    ("nənəm keçən həftə rəhmətə getdi, çox darıxıram", "psychological"),
    ("valideynlərim hər gün dalaşır, evdə durmaq istəmirəm", "psychological"),
    ("sevgilim məndən ayrıldı, hər gün ağlayıram", "psychological"),
    ("мне очень одиноко, никто не пишет", "psychological"),
    ("в классе надо мной издеваются из-за веса", "psychological"),
    ("i feel so sad all the time and i dont know why", "psychological"),
    ("my parents are always yelling at each other", "psychological"),
]

NONE = [
    ("gülməkdən ölürəm bu videoya 😂😂", None),
    ("bu fizika məni öldürəcək, sabah yoxlama var", None),
    ("acından ölürəm, nahar nə vaxtdır", None),
    ("oyunda 5 dəfə öldüm, leveli keçə bilmirəm", None),
    ("intihar mövzusunda referat yazıram, mənbə lazımdır", None),
    ("ölmək istəmirəm, sadəcə maraqlandım xidmət necə işləyir", None),
    ("salam, siz kimsiniz?", "other"),
    ("116111 pulsuzdur?", "other"),
    ("sağ olun, çox kömək etdiniz", "other"),
    ("я умираю от скуки на уроке 😅", None),
    ("мама меня убьет за эту двойку 😂", None),
    ("в игре меня убили десять раз подряд", None),
    ("пишу доклад о суициде среди подростков, нужна статистика", None),
    ("this homework is killing me lol", None),
    ("i died laughing at that meme 💀😂", None),
    ("körpünün üstündən şəkil çəkdim, çox gözəl mənzərə var", None),
    ("aptekdən nənəm üçün dərman aldım, yeməkdən əvvəl içilir?", "health"),
    ("bu mahnıya ölürəm 😍", None),
    ("Uşağımı birinci sinfə necə yazdırım?", "education"),
    ("keçmiş ərim 5 aydır aliment ödəmir", "legal"),
    ("sızanaqlardan necə qurtulum?", "health"),
    ("how do i quit vaping", "health"),
    ("как получить дубликат свидетельства о рождении?", "legal"),
    ("when do exam results come out?", "education"),
]

# Indirect phrasings (warning signs without the obvious words).
IMMINENT_INDIRECT = [
    ("son dəfə yazıram sizə, daha heç kimi narahat etməyəcəm", None),
    ("pişiyimə yaxşı baxın, mən gedirəm", None),
    ("bütün paltarlarımı bacıma verdim, onlara daha ehtiyacım olmayacaq", None),
    ("bu gecəni sağ çıxarmayacam", None),
    ("qərarım qətidir, heç kim məni dayandıra bilməz", None),
    ("9-cu mərtəbədə pəncərəni açmışam, ayaqlarım aşağı sallanır", None),
    ("dəniz kənarındayam, suya girəcəm və qayıtmayacam", None),
    ("atamın tüfəngini götürmüşəm, otağımdayam, qapı bağlıdır", None),
    ("qapını bağlamışam, əlimdə ülgüc var", None),
    ("bir qutu dərman aldım, hamısını bir dəfəyə içəcəm", None),
    ("anama məktub yazıb masanın üstünə qoydum, sağ olun hər şey üçün", None),
    ("dostum deyir ki indi körpüdədir, daha dözə bilmir, telefonu söndürdü", None),
    ("atam anamı boğmağa çalışır, indi, kömək edin", None),
    ("qızım bir şüşə sirkə içib, nə edim", None),
    ("это моё последнее сообщение, спасибо что пытались помочь", None),
    ("раздала все вещи, они мне больше не понадобятся", None),
    ("я не доживу до утра", None),
    ("сижу на подоконнике, 9 этаж, ноги уже снаружи", None),
    ("выпила всю пачку, становится плохо", None),
    ("взяла папин пистолет и закрылась в комнате", None),
    ("он стоит с ножом у двери и кричит что убьет маму", None),
    ("ребенок соседей не дышит, мать пьяная", None),
    ("by tomorrow none of this will matter, i'm done", None),
    ("i've written letters to everyone i love, it's time", None),
    ("i won't make it through tonight", None),
    ("sitting on the ledge of my balcony, 10th floor", None),
    ("i swallowed all of my antidepressants", None),
    ("got my dad's gun, door is locked", None),
    ("he's outside my door with a knife saying he'll kill us", None),
    ("my little brother drank bleach", None),
]

URGENT_INDIRECT = [
    ("hərdən arzulayıram ki bir xəstəlik tutsun və ölüm", None),
    ("heç kim ölsəm belə fərqinə varmaz", None),
    ("hər gün ölüm haqqında fikirləşirəm, bu normaldır?", None),
    ("bəzən maşının qabağına çıxmaq istəyirəm ki hər şey bitsin", None),
    ("qolumda siqaretlə yandırdığım izlər var", None),
    ("yayda da uzunqol geyinirəm ki qollarımdakı izlər görünməsin", None),
    ("ögey anam səhv edəndə məni otağa salıb ac saxlayır", None),
    ("atam içəndə anamı vurur, bizi də vurur", None),
    ("məşqçi mənə gecələr mesaj yazır, görüşək deyir, heç kimə demə deyir", None),
    ("oyunda tanış olduğum adam video zəng istəyir, soyun deyir", None),
    ("şəkillərimi ələ keçirib, pul istəyir, yoxsa hamıya göndərəcək", None),
    ("14 yaşım var, atam məni qohumumuza ərə verəcək, toy yayda olacaq", None),
    ("atam məni məktəbə buraxmır, tarlada işləyirəm", None),
    ("evdə 3 gündür yemək yoxdur, anam gəlmir", None),
    ("qızım evdən çıxıb, hələ gəlməyib, gecə saat 2-dir", None),
    ("böyük oğlanlar məktəbdən sonra məni gözləyir, döyəcəklərini deyirlər", None),
    ("иногда хочется просто не быть", None),
    ("я думаю, что мир без меня будет лучше", None),
    ("прижигаю себе руки зажигалкой", None),
    ("отчим бьет маму, а потом и меня", None),
    ("учитель физкультуры трогает девочек в раздевалке", None),
    ("мужчина из тиктока просит прислать фото без одежды", None),
    ("бывший парень шантажирует моими фото", None),
    ("я работаю на стройке с 12 лет, в школу не хожу", None),
    ("мама пьет, мы с братом одни, есть нечего", None),
    ("сын не вернулся домой после школы, телефон выключен", None),
    ("i keep thinking everyone would be happier if i disappeared", None),
    ("some days i just want to fall asleep and never wake up", None),
    ("i've been burning my arms with a lighter", None),
    ("my stepdad slaps me if i talk back", None),
    ("my coach sends me messages at night and tells me not to tell my parents", None),
    ("someone has my nudes and wants $200 or he posts them", None),
    ("my parents found a husband for me, i'm 14", None),
    ("haven't eaten in two days, there's no food at home", None),
]

NONE_TRICKY = [
    ("nənəm vəfat edəndən sonra vəsiyyətlə bağlı hansı sənədlər lazımdır?", None),
    ("dostlarla bu axşam körpünün yanında görüşəcəyik", None),
    ("sabah tətilə gedirəm, hamıya əlvida 😎", None),
    ("bıçaqla kartof doğrayanda barmağımı kəsdim, nə sürtüm?", None),
    ("ağrıkəsici həb içdim, başım hələ ağrıyır, nə edim?", None),
    ("film izlədim, qəhrəman körpüdən tullandı, çox təsirləndim", None),
    ("intihar edən yeniyetmələr haqqında məqalə oxudum, valideyn kimi əlamətləri necə tanıyım?", None),
    ("мама сказала что убьет меня если я опять опоздаю 😂", None),
    ("на физре чуть не умерла, так бегали", None),
    ("I could kill for a burger right now", None),
    ("how do I help a friend who is sad?", None),
    ("is 116111 open at night?", None),
    ("atam dedi ki sabah balığa gedəcəyik, çox sevindim", None),
    ("damımız axır, yağış yağanda tavandan su gəlir, kimə müraciət edək?", None),
]

# A third batch, written after the rules, to check that they generalise.
IMMINENT_BATCH3 = [
    ("yuxu dərmanını hamısını ağzıma atdım, gözlərim yumulur", None),
    ("damın lap kənarında oturmuşam, küləkdən qorxmuram artıq", None),
    ("ipi boynuma keçirmişəm, sadəcə sizə yazmaq istədim", None),
    ("bacım hamamda qan içindədir, qapını açmır", None),
    ("indi metrodayam, qatar gələndə atılacam", None),
    ("bu gecə bitirirəm, hər şey hazırdır", None),
    ("atam sərxoşdur, əlində balta var, anamı qovur", None),
    ("dostum dedi ki dərmanları içib, indi cavab vermir", None),
    ("kimsə gəlsin, qonşu uşağı döyürlər, artıq səsi gəlmir", None),
    ("Мән инди көрпүдәјәм, даһа дөзә билмирәм", None),
    ("я на мосту, прощайте", None),
    ("мама, прости меня, я больше не могу, таблетки уже выпила", None),
    ("сейчас отчим ломает дверь в мою комнату, у него нож", None),
    ("подруга в ванной, вены порезала, кровь везде", None),
    ("друг выпил таблетки и не просыпается", None),
    ("tonight is the night, i've got everything ready", None),
    ("i'm on the roof of my school, it's really high", None),
    ("i took 30 of my mom's sleeping pills", None),
    ("my boyfriend is strangling me right now help", None),
    ("my sister wrote a goodbye note and locked herself in her room", None),
]

URGENT_BATCH3 = [
    ("heç bir mənası yoxdur yaşamağın, hər gün eyni ağrı", None),
    ("arzum budur ki yuxuda sakitcə ölüm", None),
    ("bəzən düşünürəm hamı mənsiz daha xoşbəxt olardı", None),
    ("qollarımı ülgüclə cızıram, rahatlayıram", None),
    ("özümü döyürəm, başımı divara çırpıram", None),
    ("anam kəmərlə vurur, ayaqlarımda izlər var", None),
    ("müəllim bizi xətkeşlə vurur hər gün", None),
    ("ögey qardaşım gecələr yanıma gəlir, toxunur", None),
    ("instagramda biri şəkillərimi atmağımı istəyir, 13 yaşım var", None),
    ("videomu hamıya göstərəcəyini deyir, pul tələb edir", None),
    ("atam məni 14 yaşımda nişanladı, istəmirəm", None),
    ("hər gün bazarda səhərdən axşama kimi işləyirəm, məktəbə getmirəm", None),
    ("anam 3 gündür evə gəlmir, yeməyimiz qurtarıb", None),
    ("sabah evdən qaçacam, burda qala bilmərəm", None),
    ("oğlum dünəndən itkindir, polisə yazdıq", None),
    ("sinifdə oğlanlar məni dərsdən sonra döyəcəklərini deyirlər", None),
    ("не хочу больше просыпаться по утрам", None),
    ("мне кажется всем будет легче если меня не станет", None),
    ("я режу бедра чтобы никто не видел", None),
    ("мать бьет меня шнуром от зарядки", None),
    ("отец постоянно избивает маму, я боюсь за нее", None),
    ("сосед зовет меня к себе и просит никому не говорить", None),
    ("какой-то парень требует интимные фото, иначе опозорит", None),
    ("меня хотят женить в 16 лет на девушке которую я не знаю", None),
    ("я не хожу в школу, целый день продаю на рынке", None),
    ("нас не кормят, мы сами ищем еду", None),
    ("дочь ушла из дома три дня назад", None),
    ("i wish i could just disappear forever", None),
    ("everyone would be better without me honestly", None),
    ("i punch walls until my knuckles bleed", None),
    ("my mom beats me with a belt when i get bad grades", None),
    ("my uncle comes into my room at night", None),
    ("a man online keeps asking me to send photos in my underwear", None),
    ("he says he will leak my videos if i stop talking to him", None),
    ("my dad pulled me out of school to work at his shop", None),
    ("my little brother and i haven't had dinner in days, mum is never home", None),
    ("i'm going to run away from home tonight", None),
]

NONE_BATCH3 = [
    ("bu imtahan məni bitirdi 😩 amma keçdim", None),
    ("dünən gecə filmdə qəhrəman intihar etdi, çox kədərli idi", None),
    ("intihar haqqında statistikanı haradan tapım? tələbəyəm", None),
    ("kimya müəllimi bizi öldürür bu testlərlə", None),
    ("qardaşım mənim şəkillərimi atmadı qrupa, yaxşı ki 😅", None),
    ("pəncərədən baxanda körpü görünür, çox gözəldir", None),
    ("bu gecə dostlarla kino izləyəcəyik, hansı filmi tövsiyə edərsiniz?", None),
    ("я чуть не умер со смеху на уроке", None),
    ("этот сериал меня убивает, так затянули", None),
    ("как помочь подруге, которая грустит?", None),
    ("в каком возрасте можно выйти замуж в Азербайджане?", None),
    ("с какого возраста подросток может официально работать?", None),
    ("i'm dead tired after practice", None),
    ("this game is killing me, can't pass level 5", None),
    ("how can i volunteer with you?", None),
    ("is it legal for a 15 year old to work in summer?", None),
    ("my grandma gave away her old clothes to charity", None),
    ("goodbye for now, thanks for the help!", None),
]

# A fourth batch, written blind after the third round of rule changes.
IMMINENT_BATCH4 = [
    ("artıq hər şey bitir, həbləri əlimə tökdüm", None),
    ("sağ olun ki dinlədiniz, bu axşam mən yoxam", None),
    ("binanın ən üst mərtəbəsindəyəm, aşağı tullanmağa hazıram", None),
    ("zəhər almışam, içib yatacam", None),
    ("Атам бычагла анамы гоҹалајыр, индичә", None),
    ("özümü asmağa hazırlaşıram, ip tavandan sallanır", None),
    ("qardaşım huşunu itirib, nəsə çəkmişdi", None),
    ("ay kömək edin atam məni öldürür, qapını bağladım", None),
    ("я уже на краю крыши, ветер сильный", None),
    ("все таблетки что были дома я выпил", None),
    ("он душит маму, помогите", None),
    ("i'm sitting in the bathtub with a razor", None),
    ("the pills are starting to kick in", None),
    ("dad has a gun pointed at mom", None),
]

URGENT_BATCH4 = [
    ("yaşamaqdan zəhləm gedib", None),
    ("həyat mənə yükdür, qurtarmaq istəyirəm", None),
    ("hər şeyi bitirmək haqqında fikirləşirəm", None),
    ("gecələr ağlayıb özümü dişləyirəm", None),
    ("dırnaqlarımla qolumu qanadana qədər qaşıyıram", None),
    ("atam qəzəblənəndə məni şalvar kəməri ilə döyür", None),
    ("ögey atam anama bilmədən mənə toxunmağa çalışır", None),
    ("tanımadığım biri telegramda açıq şəkillərimi istəyir", None),
    ("şəkillərimi internetə atmaqla hədələyir", None),
    ("15 yaşım var, ailəm məni ərə vermək istəyir", None),
    ("12 yaşlı qardaşım tikintidə işləyir, atam göndərir", None),
    ("uşaqları evdə kilidləyib işə gedir, bütün günü tək qalırlar", None),
    ("qızım internetdə tanış olduğu kişinin yanına getdi, qayıtmadı", None),
    ("у меня нет желания жить", None),
    ("надоело всё, хочу уснуть навсегда", None),
    ("прячу порезы под рукавами", None),
    ("отец лупит меня за каждую ошибку", None),
    ("взрослый мужчина в игре предлагает встретиться и дарит скины", None),
    ("мне 14, родители договорились о моей свадьбе", None),
    ("i don't see the point in living anymore", None),
    ("i hurt myself when i get overwhelmed", None),
    ("my mom's boyfriend hits me and my sister", None),
    ("an older guy i met online wants me to meet him secretly", None),
    ("someone is threatening to share my private photos", None),
    ("my friend hasn't been home for two nights and her parents don't know", None),
]

ELEVATED_BATCH4 = [
    ("heç kim məni başa düşmür, özümü çox tək hiss edirəm", None),
    ("imtahandan çox qorxuram, yata bilmirəm", None),
    ("sinifdə hamı mənə gülür", None),
    ("мне так грустно что хочется плакать", None),
    ("i feel really lonely at my new school", None),
]

NONE_BATCH4 = [
    ("uşağım məktəbdə yeni dost tapa bilmir, necə kömək edim?", None),
    ("sabah bacımın toyudur, çox həyəcanlıyam", None),
    ("nənəm həblərini içməyi unudur, necə xatırladım?", None),
    ("dərsdən sonra futbol oynayacağıq", None),
    ("ölüm cəzası haqqında esse yazıram", None),
    ("kak zapisatsya k shkolnomu psixologu?", None),
    ("можно ли работать в 16 лет летом?", None),
    ("dad said he'll kill me if i'm late again lol", None),
    ("my phone died and i lost all my notes", None),
    ("what should i do if my friend is being bullied?", None),
]

# Batch 5: chat spellings, no special letters, Cyrillic Azerbaijani, mixed languages (written blind).
IMMINENT_BATCH5 = [
    ("heblerin hamsin atmisam agzima, basim gicellenir", None),
    ("bu gece korpuden atilacam, hec kim meni saxlamasin", None),
    ("ozumu pencereden atacam indi, 7ci mertebedeyem", None),
    ("mama ya uje vipila vse tabletki, prosti", None),
    ("короче я на крыше, bu dəfə ciddiyəm", None),
    ("Һәбләрин һамысыны ичдим, үрәјим буланыр", None),
    ("atam bicagi goturub anamin ustune gedir!!!", None),
    ("qardasim bogulur hovuzda, komek edin", None),
    ("i already cut my wrist, theres so much blood", None),
    ("bye everyone, i'm at the bridge", None),
]

URGENT_BATCH5 = [
    ("yasamaq isdemirem daha, her sey menasizdi", None),
    ("olmek isdiyirem vallah, hec kim basa dusmur", None),
    ("ozumu kesirem her gece, izler qalir", None),
    ("atam meni her gun doyur, kemerle vurur", None),
    ("ogey atam gece otagima girir, qorxuram cox", None),
    ("biri sekillerimi yayacaq deyir eger pul vermesem", None),
    ("meni 15 yasimda ere vermek isteyirler, oxumaq isteyirem", None),
    ("Мәни һәр ҝүн дөјүр атам", None),
    ("Өлмәк истәјирәм, даһа јорулмушам", None),
    ("ваще жить не хочу, heç nə maraqlı deyil", None),
    ("kaş heç doğulmayaydım 😔", None),
    ("menim yerime hamı rahat olardı olmasaydım", None),
    ("idk i just want to stop existing", None),
    ("sometimes i think about jumping in front of a car", None),
    ("cuts on my thighs again, i can't stop", None),
]

NONE_BATCH5 = [
    ("salaaam necesiz? bot sen kimsen", None),
    ("sag olun, cox komek etdiniz ❤️", None),
    ("ozumu oldurecem bu oyunu kecmesem 😂😂", None),
    ("olum dushunmurem, sadece meraq etdim", None),
    ("riyaziyat meni oldurur 🙄 sabah imtahan", None),
    ("Салам, сиз ким сиз?", None),
    ("bu film meni aglatdi, cox qemli idi", None),
    ("ok thanks bye", None),
]


# Batch 6 (written blind after the fifth round).
IMMINENT_BATCH6 = [
    ("artıq gecdir, dərmanlar işləməyə başladı, sağ olun", None),
    ("çayın kənarındayam, üzməyi bilmirəm, suya girəcəm", None),
    ("otağımda kəmərlə özümü boğmağa çalışdım, alınmadı, yenə edəcəm", None),
    ("qonşu kişi məni zorla evinə saldı, qapını bağlayıb, gizlicə yazıram", None),
    ("anam tavandan asılıb, nə edim?? 😭", None),
    ("ata tapançanı mənə tuşlayıb, qışqırır", None),
    ("bütün gecə ağladım, indi pəncərənin kənarında oturub sizə yazıram", None),
    ("я написала прощальные письма маме и сестре", None),
    ("наглоталась каких-то таблеток из аптечки, сердце колотится", None),
    ("стою на балконе, 14 этаж, перелезла через перила", None),
    ("он бьёт маму головой об стену, кровь", None),
    ("i've taken everything in the medicine cabinet, i'm scared now", None),
    ("my brother hung himself in the garage, he's not moving", None),
]

URGENT_BATCH6 = [
    ("son vaxtlar ölümü arzulayıram, heç nəyə dəyməz bu həyat", None),
    ("bəzən maşına minəndə fikirləşirəm ki qəza olsa yaxşı olardı", None),
    ("hər şeyi bitirmək istəyirəm, amma necə bilmirəm", None),
    ("heç kəs mənim üçün ağlamaz, öləndə də", None),
    ("bilək nahiyəsində çapıqlarım var, gizlədirəm", None),
    ("cəza kimi özümü ac qoyuram, yemək yeməyə haqqım yoxdur", None),
    ("ögey atam hər gün məni təhqir edib vurur", None),
    ("qızımın müəllimi ona mesajlar yazır, 'sən çox gözəlsən' deyir, qızım 12 yaşındadır", None),
    ("tiktokda biri canlı yayımda soyunmağımı istəyir", None),
    ("bir oğlan şəkillərimi saxlayıb, görüşə gəlməsəm yayacaq", None),
    ("nənəm məni 16 yaşımda əmim oğluna nişanlamaq istəyir", None),
    ("qardaşımla hər gün küçədə su satırıq, pulu atam alır", None),
    ("uşaqlar iki gündür tək qalıblar, valideynləri içib yatır", None),
    ("oğlum 3 gündür evə gəlmir, dostları da bilmir harada olduğunu", None),
    ("sinifdən bir oğlan məni hər gün təpikləyir, müəllim görmür", None),
    ("мне незачем жить, я никому не нужна", None),
    ("я специально оставляю на себе синяки", None),
    ("тренер трогает меня во время растяжки, мне неприятно", None),
    ("парень угрожает скинуть наши переписки моим родителям", None),
    ("отец отправляет меня работать на рынок вместо школы", None),
    ("мне 13, а меня хотят отдать замуж за соседа", None),
    ("we haven't seen my sister since friday, she's 14", None),
    ("i've thought about how i'd kill myself", None),
    ("nobody would care if i just vanished", None),
    ("my dad chokes me when he's angry", None),
    ("my uncle makes me do things i don't want and says it's a game", None),
]

NONE_BATCH6 = [
    ("qızım sevgilisi ilə ayrılıb, ona necə dəstək olum?", None),
    ("müəllim dedi ki, referatda intiharın səbəblərini yazaq", None),
    ("bu serialda baş qəhrəman ölür, çox ağladım", None),
    ("pəncərəni açıb təmiz hava aldım, yaxşı oldum", None),
    ("dostlarla körpüdə velosiped sürdük", None),
    ("я умираю от жары, когда уже осень", None),
    ("мама убьет меня за беспорядок в комнате 😅", None),
    ("i'm so dead if my mom sees this grade lol", None),
    ("goodbye and thank you, you helped a lot", None),
    ("how do i talk to my daughter about online safety?", None),
]


# Batch 7 (written blind after the sixth round).
IMMINENT_BATCH7 = [
    ("yazıram ki bilin, bu gecə dənizə girəcəm və qayıtmayacam", None),
    ("əlimdə ülgüc, vannadayam, su qırmızıdır", None),
    ("dostum mesaj yazdı ki həyatına son qoyur indi, ünvanını bilirəm", None),
    ("evin açarını bacıma verdim, məndən sonra ona lazım olacaq", None),
    ("ставлю точку. сегодня всё закончится", None),
    ("я написал записку и ухожу на крышу", None),
    ("сестра выпила уксус, ей плохо", None),
    ("мама не просыпается, рядом пустые упаковки от таблеток", None),
    ("i have the knife against my wrist right now", None),
    ("i'm at the top of the parking garage, looking down", None),
    ("this is the end for me. please tell my family i'm sorry", None),
    ("he's breaking down the door and says he'll kill us", None),
]

URGENT_BATCH7 = [
    ("yaşamağa heç bir səbəbim qalmayıb", None),
    ("sanki hamı məndən qurtulmaq istəyir, bəlkə də haqlıdırlar, yox olum", None),
    ("ölümün dadını bilmək istəyirəm", None),
    ("qolumu kompasla cızıram, kimsə bilmir", None),
    ("atam məni yerə yıxıb təpikləyir", None),
    ("ögey ata mənə qəribə videolar göstərir", None),
    ("biri mənə pul verir ki ona şəkillərimi atım", None),
    ("oğlum 13 yaşındadır, internetdə ona 'sevgilim' deyən yaşlı kişi var", None),
    ("nişan üzüyünü taxıblar, 15 yaşım var, istəmirəm", None),
    ("anam məni dilənməyə məcbur edir", None),
    ("üç gündür evdə işıq yoxdur, yemək yoxdur, anam gəlmir", None),
    ("evdən qaçmağı planlaşdırıram", None),
    ("я устала жить", None),
    ("иногда представляю свои похороны", None),
    ("режу себя циркулем", None),
    ("отчим избивает меня и запрещает рассказывать маме", None),
    ("в школе старшеклассник заставляет меня трогать его", None),
    ("мне 16, меня увозят в деревню выдавать замуж", None),
    ("у нас дома нечего есть уже неделю", None),
    ("i don't want to wake up tomorrow", None),
    ("i scratch my skin till it bleeds", None),
    ("my stepmom locks me in my room without food", None),
    ("there's a man who keeps sending me gifts and wants me to keep it from my parents", None),
    ("they're sending me to work in a factory, i'm 13", None),
]

NONE_BATCH7 = [
    ("bu yeni mahnı məni öldürdü, çox gözəldir 🔥", None),
    ("qardaşım oyunda 'öldürəcəm səni' deyir, zarafat edir", None),
    ("ağrıkəsici içdim, indi yaxşıyam", None),
    ("bacım nişanlanır, 25 yaşı var, çox sevinirik", None),
    ("atam dedi bu gecə gec gələcək", None),
    ("я на крыше с друзьями, смотрим закат", None),
    ("my little brother says 'i'll kill you' when we play, is that normal?", None),
    ("finally done with exams, goodbye school!", None),
]


# Batch 8: ordinary messages that use crisis words innocently (precision check, written blind).
NONE_BATCH8 = [
    ("bu gecə ulduzlara baxmağa çıxacağıq dostlarla", None),
    ("sabah səhər tez qalxmalıyam, saat 6-da", None),
    ("atam körpünün yanında işləyir, onu necə gözləyim", None),
    ("bıçaqla pomidor doğrayırdım, əlimi azca kəsdim, yara keçər?", None),
    ("anam dərmanlarını içməyi unutdu, xatırlatmaq üçün nə edim", None),
    ("dam örtüyü sızır, ev sahibi düzəltmir, kirayəçiyik", None),
    ("pəncərədən top düşdü, qonşu qışqırdı 😅", None),
    ("qardaşım mənim telefonumu sındırdı, çox əsəbiləşdim", None),
    ("məktəbdə tamaşa var, mən ölü rolunu oynayıram 😄", None),
    ("ölüm mövzusunda şeir yazmışam, müəllimə göstərim?", None),
    ("nənəm xəstəxanadadır, ona necə dəstək olum?", None),
    ("dostum mənə küsüb, nə edim ki barışaq?", None),
    ("ağrıkəsicini neçə saatdan bir içmək olar?", None),
    ("qızım gecələr qorxulu yuxu görür, necə sakitləşdirim", None),
    ("imtahandan 2 aldım, atam bilsə məni öldürər 🙃", None),
    ("bu qış çox soyuqdur, donuram 🥶", None),
    ("oğlumun məktəbində bullinq haqqında seminar olacaq, iştirak edim?", None),
    ("əlimi qapıya sıxdım, göyərib, həkimə getməliyəm?", None),
    ("toydan sonra çox yoruldum, bütün gecə rəqs etdik", None),
    ("ip tullanmaq üçün yaxşı ip hansıdır?", None),
    ("я хочу стать врачом, какие экзамены сдавать?", None),
    ("сегодня ночью будет гроза, мне страшно немного", None),
    ("мост через реку закрыли на ремонт", None),
    ("сестра разбила мою любимую кружку, я в бешенстве", None),
    ("учительница сказала что убьет нас контрольной 😂", None),
    ("как правильно резать хлеб чтобы не порезаться?", None),
    ("у меня болит голова, можно выпить таблетку?", None),
    ("прощайте каникулы, завтра в школу 😩", None),
    ("i'm going to the roof garden with my class tomorrow", None),
    ("my dog died last year and i still miss him", None),
    ("i cut my finger making dinner, how do i stop it bleeding?", None),
    ("is it normal to feel nervous before a test?", None),
    ("my parents argue sometimes, is that normal?", None),
    ("i took my allergy pills this morning, can i take another?", None),
    ("we're planning a surprise party tonight for my sister", None),
    ("the bridge near our school is so pretty at night", None),
    ("how do i tell my mom i failed math?", None),
    ("i wanna die of embarrassment lol, i tripped in front of everyone", None),
]

ELEVATED_BATCH8 = [
    ("son vaxtlar heç nə istəmirəm, elə hey yatıram", None),
    ("sinfimdə heç kim mənimlə danışmır, tək qalmışam", None),
    ("valideynlərim boşanır, çox kədərliyəm", None),
    ("imtahan yaxınlaşır, gecələr yata bilmirəm", None),
    ("мне одиноко в новой школе", None),
    ("i feel like nobody cares about me at school", None),
]


# Batch 9 (written blind; Russian, English and chat spellings).
IMMINENT_BATCH9 = [
    ("мост уже подо мной, осталось шагнуть", None),
    ("папа гонится за нами с топором, мы в машине", None),
    ("я порезала вены, лежу в ванной", None),
    ("брат наглотался маминых таблеток и не отвечает", None),
    ("сейчас подруга стоит у окна и говорит что прыгнет", None),
    ("i'm standing on a chair with the rope around my neck", None),
    ("i just drank a whole bottle of vodka with pills", None),
    ("my mom's boyfriend is beating her and she's not moving", None),
    ("qərar vermişəm, bu gecə çayın üstündəki körpüdən", None),
    ("hebleri yigmisam, ailem yatanda hamsini icecem", None),
    ("bacim ozunu otaqa baglayib, icerden ses gelmir, qolunu kesmisdi evvel", None),
    ("atam anamı bıçaqla vurdu, qan çoxdur, kömək edin", None),
]

URGENT_BATCH9 = [
    ("я просто хочу чтобы всё это закончилось навсегда", None),
    ("все было бы проще если бы я не родилась", None),
    ("меня тошнит от жизни", None),
    ("прячу лезвие в пенале, режусь в туалете в школе", None),
    ("отец когда пьяный кидается на меня с кулаками", None),
    ("брат сестры трогает меня под одеждой", None),
    ("парень из игры просит сделать видео без одежды", None),
    ("угрожает что всем покажет мои фото если я не пришлю еще", None),
    ("меня заставляют бросить школу и выйти замуж", None),
    ("работаю грузчиком после школы до ночи, мне 13", None),
    ("нас с братом бросили одних, мамы нет уже неделю", None),
    ("сын не ночевал дома, телефон выключен, ему 15", None),
    ("i feel like the world would be better without me in it", None),
    ("i keep googling ways to die", None),
    ("i've started cutting again, deeper this time", None),
    ("dad throws things at me and hits me when he's drunk", None),
    ("my older cousin makes me touch him", None),
    ("someone i met online says he'll share my nudes with my school", None),
    ("my family is forcing me to marry my cousin, i'm 15", None),
    ("i'm 12 and i have to work at the market every day instead of school", None),
    ("my mom leaves us alone for days without food", None),
    ("my 14 year old son ran away last night", None),
    ("olmeyi her gun dusunurem artiq", None),
    ("mene heyat lazim deyil", None),
    ("qollarima baxanda utaniram, izler cox olub", None),
    ("qardasim meni her gun kemerle doyur, anam bilmir", None),
    ("dayim meni qucaqlayanda pis yerlerime toxunur", None),
    ("menim sekillerimi yayacaq eger ona pul gondermesem", None),
]

NONE_BATCH9 = [
    ("хочу умереть со смеху от этого видео 😂", None),
    ("на физкультуре научились лазить по канату", None),
    ("какие таблетки от аллергии можно детям?", None),
    ("i'm dying to know what happens next in the series", None),
    ("we watched a movie where the hero jumps off a bridge", None),
    ("can i cut my own hair or should i go to a salon?", None),
    ("dayim bu gecə bizə gələcək, çox sevinirəm", None),
    ("ipi tapa bilmirəm, bədən tərbiyəsi dərsi üçün lazımdır", None),
]


# Batch 10 (written blind).
IMMINENT_BATCH10 = [
    ("oğlum otağında, qapını açmır, içəridə ip səsi gəlir, deyir yaxınlaşsanız edəcəm", None),
    ("şagirdim dərsdən sonra dedi ki bu gün evə getməyəcək, körpüyə gedəcək, telefonu cavab vermir", None),
    ("qızım həbləri içdiyini yazdı, sonra telefonu söndürdü, harada olduğunu bilmirəm", None),
    ("bu məktubu oxuyanda mən artıq olmayacam, anama göstərin", None),
    ("ögey atam indi bıçaqla anamın üstünə gedir, biz şkafdayıq", None),
    ("tek qalmisam evde, hebler elimde, bu defe hec kim mane olmayacaq", None),
    ("сейчас в руках таблетки, хочу чтобы всё закончилось", None),
    ("ученица написала мне что стоит на крыше школы", None),
    ("my student texted me goodbye and said she took all her pills", None),
    ("i'm sitting on the edge of the bridge, my legs are over the water", None),
]

URGENT_BATCH10 = [
    ("uşağım 10 yaşındadır, dünən dedi ki 'mən ölsəm yaxşı olar', qorxdum", None),
    ("oğlumun telefonunda 'necə ölmək olar' axtarışı gördüm", None),
    ("qızımın qollarında təzə kəsiklər var, soruşanda pişik cızıb deyir", None),
    ("sinif rəhbəriyəm, bir oğlanın kürəyində göyərmələr gördüm, evdə döyürlər deyəsən", None),
    ("şagirdim deyir ögey atası gecələr otağına girir", None),
    ("bacım 15 yaşındadır, onu zorla nişanlayıblar", None),
    ("qonşunun uşaqları bütün günü küçədə dilənir, valideynləri göndərir", None),
    ("qızım 2 gündür evə gəlməyib, sosial şəbəkədə tanış olduğu oğlanla gedib", None),
    ("hər şeyin sonu gəlsin istəyirəm, yoruldum mübarizə aparmaqdan", None),
    ("mən yox olanda heç kim axtarmayacaq", None),
    ("оказывается сын давно режет руки, я нашла бинты", None),
    ("дочь рассказала что тренер ее трогал", None),
    ("my daughter told me she wants to die, she's 11", None),
    ("a student of mine has bruises every monday", None),
]

NONE_BATCH10 = [
    ("şagirdlərlə intiharın qarşısının alınması mövzusunda dərs keçmək istəyirəm, material varmı?", None),
    ("oğlum oyunda həmişə ölür, əsəbləşir, nə edim?", None),
    ("qızım bu gecə dostunda qalacaq, icazə verim?", None),
    ("valideyn iclasında zorakılıq haqqında danışacağıq, broşür var?", None),
    ("мой сын играет в игры где всех убивает, это нормально?", None),
    ("how do I explain death to my 6 year old after grandpa died?", None),
]


# Batch 11 (written blind).
IMMINENT_BATCH11 = [
    ("daha bu dünyada qalmağa gücüm yoxdur, həblər qarşımdadır", None),
    ("bu son gecəmdir, sabah məni tapacaqlar", None),
    ("ozumu qatarin altina atmaq ucun vagzaldayam", None),
    ("qolumu kəsdim, qan damla-damla yerə tökülür, başım gicəllənir", None),
    ("atam qardaşımı döyür, uşaq huşunu itirdi", None),
    ("я на девятом этаже, открыла окно, хватит с меня", None),
    ("наглоталась снотворного, засыпаю, прощайте", None),
    ("i'm done. the pills are in my hand and i'm swallowing them now", None),
    ("he has a gun and he's saying he'll shoot us all", None),
]

URGENT_BATCH11 = [
    ("canımdan bezmişəm, ölüm daha asandır", None),
    ("elə yaşamaq istəmirəm ki, hər gün ağrı", None),
    ("ürəyim partlayır, kaş ölüb bu ağrıdan qurtarım", None),
    ("əlimi şam alovuna tuturam ki ağrı hiss edim", None),
    ("atam məni evdən qovdu, gecə küçədəyəm", None),
    ("ögey anam hər gün başıma vurur", None),
    ("qonşu oğlan məni zorla öpdü, sonra dedi kimsəyə desən görərsən", None),
    ("mənə 500 manat göndər, yoxsa şəkillərin hamıda olacaq deyir", None),
    ("13 yaşım var, məni qohumlarımız evləndirmək istəyir", None),
    ("məktəbdən sonra anam məni bazarda siqaret satmağa göndərir", None),
    ("bir həftədir anam evə gəlmir, balaca qardaşımla yemək tapmırıq", None),
    ("я хочу исчезнуть и никогда не возвращаться", None),
    ("иногда мне кажется что смерть это не так уж плохо", None),
    ("bro i lowkey want to end it all", None),
    ("everyone would be happier if i didn't exist", None),
]

NONE_BATCH11 = [
    ("kitabdakı qəhrəman özünü öldürdü, bu haqda esse yazmalıyam", None),
    ("ölüm haqqında fəlsəfi sual: insanlar niyə ölümdən qorxur?", None),
    ("bu gecə bayramdır, hamıya əlvida demədən gedirik kəndə 😊", None),
    ("мама сказала что я её в могилу сведу своими оценками 😂", None),
    ("my grandpa gave away his old car to my cousin", None),
]


ALL_IMMINENT = (
    IMMINENT
    + IMMINENT_INDIRECT
    + IMMINENT_BATCH3
    + IMMINENT_BATCH4
    + IMMINENT_BATCH5
    + IMMINENT_BATCH6
    + IMMINENT_BATCH7
    + IMMINENT_BATCH9
    + IMMINENT_BATCH10
    + IMMINENT_BATCH11
)
ALL_URGENT = (
    URGENT
    + URGENT_INDIRECT
    + URGENT_BATCH3
    + URGENT_BATCH4
    + URGENT_BATCH5
    + URGENT_BATCH6
    + URGENT_BATCH7
    + URGENT_BATCH9
    + URGENT_BATCH10
    + URGENT_BATCH11
)
ALL_ELEVATED = ELEVATED + ELEVATED_BATCH4 + ELEVATED_BATCH8
ALL_NONE = (
    NONE
    + NONE_TRICKY
    + NONE_BATCH3
    + NONE_BATCH4
    + NONE_BATCH5
    + NONE_BATCH6
    + NONE_BATCH7
    + NONE_BATCH8
    + NONE_BATCH9
    + NONE_BATCH10
    + NONE_BATCH11
)


def _ids(items):
    return [text[:40] for text, _ in items]


@pytest.mark.parametrize(("text", "category"), ALL_IMMINENT, ids=_ids(ALL_IMMINENT))
def test_imminent_danger_is_recognised(triager, text, category):
    result = triager.analyze(text)
    assert result.risk == Risk.IMMINENT, (result.risk, [s.code for s in result.signals])
    assert result.escalate
    assert any(s.level == Risk.IMMINENT for s in result.signals)
    if category:
        assert result.category.value == category


@pytest.mark.parametrize(("text", "category"), ALL_URGENT, ids=_ids(ALL_URGENT))
def test_urgent_cases_are_escalated(triager, text, category):
    result = triager.analyze(text)
    assert result.escalate, (result.risk, [s.code for s in result.signals])
    assert result.signals and result.signals[0].label
    if category:
        assert result.category.value == category


@pytest.mark.parametrize(("text", "category"), ALL_ELEVATED, ids=_ids(ALL_ELEVATED))
def test_distress_without_danger_is_elevated_not_escalated(triager, text, category):
    result = triager.analyze(text)
    assert result.risk == Risk.ELEVATED, (result.risk, [s.code for s in result.signals])
    if category:
        assert result.category.value == category


@pytest.mark.parametrize(("text", "category"), ALL_NONE, ids=_ids(ALL_NONE))
def test_ordinary_figurative_and_negated_messages_are_not_escalated(triager, text, category):
    result = triager.analyze(text)
    assert not result.escalate, (result.risk, [(s.code, s.evidence) for s in result.signals])
    if category:
        assert result.category.value == category
