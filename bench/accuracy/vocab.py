"""Word lists for the evaluation world's prose: names, places, institutions and a topic vocabulary.

Owned here: plain data only. `prose.py` combines these into headlines, leads and article bodies. The lists are
long on purpose: articles are built by filling many independent slots, so two different articles share only
short runs of function words, as two real news stories do.
"""

from __future__ import annotations

FIRST_NAMES = """
Aaron Abigail Adam Adrienne Aisha Alain Alexandra Ali Alison Amanda Amir Andrea Andrew Angela Anita Annie
Anthony Arjun Audrey Barbara Benoit Bernard Beth Brendan Brian Bruce Caitlin Cameron Carla Carol Catherine
Chantal Charles Chloe Christine Claire Colin Craig Daniel Danielle David Deborah Denis Derek Diane Dominic
Donald Doug Elaine Elizabeth Emily Emma Eric Evan Fatima Felix Fiona Frances Francois Gabriel Gail Gerald
Gillian Glen Gordon Grace Graham Greg Hannah Harjit Heather Helen Hugh Ian Irene Isabelle Jacques James Jane
Janet Jasmine Jason Jean Jennifer Jeremy Jessica Joan John Jonathan Joseph Judith Julie Justin Karen Kathleen
Keith Kenneth Kevin Kim Laura Lauren Leah Leslie Linda Lisa Louise Lucas Lynn Malcolm Manon Margaret Maria
Marie Mark Martin Matthew Maureen Megan Melanie Michael Michelle Mohamed Monique Nadia Naomi Natalie Neil
Nicholas Nicole Nina Olivia Omar Pamela Patricia Patrick Paul Peter Philip Pierre Priya Rachel Rajiv Ralph
Raymond Rebecca Richard Robert Roger Ronald Rosa Ruth Ryan Samantha Samuel Sandra Sarah Scott Sean Sharon
Simon Sophie Stephanie Stephen Steven Susan Sylvie Tanya Teresa Thomas Timothy Tina Todd Tyler Valerie
Vanessa Veronica Victor Vincent Wayne Wendy William Yasmin Yves Zoe
""".split()

SURNAMES = """
Abbott Adams Ahmed Allard Anderson Arsenault Atwood Bailey Baker Banerjee Barnes Beaulieu Bell Bergeron
Bertrand Bishop Black Blais Bouchard Boucher Boyd Brady Brennan Brooks Brown Bryant Buchanan Burke Burns
Cameron Campbell Carlson Caron Carter Chan Chandler Chapman Chen Cheung Clark Cloutier Cole Collins Cook
Cooper Cote Coulter Cross Cunningham Daigle Davidson Davies Dawson Desjardins Dhillon Dixon Doherty Donovan
Doucet Doyle Dube Duncan Dupuis Edwards Elliott Ellis Evans Ferguson Fischer Fitzgerald Fleming Fletcher
Forbes Fortin Foster Fournier Fraser Gagne Gagnon Gallant Garneau Gauthier Gibson Gill Gillespie Girard
Gordon Graham Grant Gray Greene Grewal Gupta Hall Hamilton Hansen Harper Harris Hart Harvey Hayes Henderson
Hill Hoffman Holmes Howard Hughes Hunter Ingram Jackson Jensen Johnston Jones Kaur Kelly Kennedy Khan King
Kirby Klassen Knight Kowalski Lacroix Lambert Landry Lapointe Larson Lavoie Lawrence Leblanc Leclerc Lee
Lefebvre Lemieux Levesque Lewis Lindsay Lloyd Lowe Lynch MacDonald MacKay MacLean MacLeod Mahoney Malik
Marshall Martel Mason McCann McCarthy McDougall McGregor McKenna McLaughlin McNeil Mercier Miller Mitchell
Moore Morin Morrison Murphy Murray Nadeau Nguyen Nicholson Noble O'Brien O'Connor Ouellet Owen Paquette
Parent Park Parsons Patel Pearson Pelletier Perreault Perry Peters Phillips Picard Poirier Porter Powell
Price Quinn Reid Reynolds Richard Richardson Robertson Robinson Rogers Ross Roy Russell Ryan Sandhu
Saunders Savard Schmidt Scott Sharma Shaw Simard Sinclair Singh Smith Stewart Stone Sullivan Sutherland
Tait Taylor Thibault Thompson Tremblay Turcotte Turner Vachon Vaillancourt Walker Wallace Walsh Ward Watson
Webb Wells White Williams Wilson Wong Wright Young Zimmerman
""".split()

PLACES = """
Ottawa Toronto Montreal Vancouver Calgary Edmonton Winnipeg Regina Saskatoon Halifax Fredericton Moncton
Charlottetown Victoria Kelowna Kamloops Nanaimo Whitehorse Yellowknife Iqaluit Hamilton London Windsor
Kingston Sudbury Thunder-Bay Sault-Ste.-Marie Barrie Oshawa Gatineau Sherbrooke Quebec-City Trois-Rivieres
Saguenay Rimouski Sydney Corner-Brook Gander Lethbridge Red-Deer Fort-McMurray Grande-Prairie Prince-George
Kitimat Prince-Rupert Brandon Thompson Attawapiskat Kashechewan Moosonee Timmins Cornwall Peterborough
Guelph Waterloo Niagara Brampton Mississauga Surrey Burnaby Richmond Abbotsford Chilliwack Nelson Cranbrook
Washington Beijing London Brussels Geneva Kabul Kandahar Cairo Damascus Tehran Caracas Havana Mexico-City
Tegucigalpa Port-au-Prince Nairobi Johannesburg Mumbai Delhi Tokyo Seoul Canberra Wellington Athens Madrid
Lisbon Dublin Berlin Paris Rome Oslo Stockholm Copenhagen Reykjavik Anchorage Seattle Chicago Detroit Boston
""".split()

PROVINCES = """
Ontario Quebec British-Columbia Alberta Saskatchewan Manitoba Nova-Scotia New-Brunswick Newfoundland
Prince-Edward-Island Nunavut Yukon the-Northwest-Territories
""".split()

ROLES = """
minister|cabinet minister|deputy minister|opposition critic|party leader|premier|mayor|city councillor|
senator|backbench MP|parliamentary secretary|chief of staff|spokesperson|press secretary|union president|
chief executive|economist|professor of political science|law professor|policy analyst|researcher|
national chief|grand chief|band councillor|environmental lawyer|labour organizer|privacy commissioner|
auditor general|budget officer|ombudsman|inspector|police chief|crown prosecutor|defence lawyer|judge|
nurse|family physician|epidemiologist|hospital administrator|school trustee|teacher|student leader|
farmer|fisherman|small-business owner|pension expert|housing advocate|tenant organizer|pollster|
campaign manager|retired general|former diplomat|think-tank director|activist|community organizer
""".replace("\n", "").split("|")

INSTITUTIONS = """
the Finance Department|Environment Canada|Health Canada|the Treasury Board|the Privy Council Office|
the Prime Minister's Office|the Department of National Defence|Fisheries and Oceans|Public Safety Canada|
Citizenship and Immigration|Indian and Northern Affairs|Natural Resources Canada|Elections Canada|
the Parliamentary Budget Office|the Auditor General's office|the Supreme Court|the Federal Court|
the Senate|the House of Commons|the Commons finance committee|the Commons ethics committee|
the RCMP|the Canada Revenue Agency|Statistics Canada|the Bank of Canada|the National Energy Board|
the CRTC|Veterans Affairs|the Canadian Food Inspection Agency|the Competition Bureau|
the Assembly of First Nations|the Canadian Labour Congress|the Canadian Medical Association|
the Canadian Civil Liberties Association|the Council of Canadians|the Fraser Institute|
the C.D. Howe Institute|the Canadian Centre for Policy Alternatives|Greenpeace|the Sierra Club|
Amnesty International|Human Rights Watch|the United Nations|the World Bank|the IMF|the OECD|NATO|
Enbridge|TransCanada|Suncor|Syncrude|Imperial Oil|Nexen|Bombardier|CN Rail|Air Canada|Rogers|Bell|
Telus|Loblaw|Walmart|Caterpillar|Electro-Motive|Canada Post|the CBC|Via Rail|the Wheat Board|
the Conservative caucus|the NDP caucus|the Liberal caucus|the Bloc Quebecois|the Green Party|
the Ontario government|Queen's Park|the Quebec government|the Alberta government|the B.C. government|
Toronto city council|the Ottawa police|the Montreal police|the Toronto Police Services Board
""".replace("\n", "").split("|")

TOPICS: dict[str, dict[str, list[str]]] = {
    "budget": {
        "issues": "omnibus budget bill|spending cuts|deficit projections|public-service layoffs|pension reform|"
                  "old age security changes|corporate tax cuts|infrastructure spending|program review|"
                  "employment insurance changes|gst credit|balanced-budget target|debt ceiling|"
                  "strategic review savings|departmental reductions|transfer payments|equalization formula".split("|"),
        "nouns": "deficit surplus forecast shortfall revenue austerity layoffs restraint ledger allocation "
                 "appropriation estimates projection savings freeze envelope outlay treasury bondholders "
                 "rating downgrade stimulus".split(),
        "labels": ["Budget", "Economy", "Austerity"],
    },
    "environment": {
        "issues": "pipeline proposal|oilsands expansion|tanker traffic|carbon tax|climate targets|"
                  "Kyoto withdrawal|environmental assessment rules|fisheries habitat protection|"
                  "caribou recovery plan|tailings ponds|coal plant closures|emissions regulations|"
                  "Experimental Lakes Area|navigable waters law|species at risk|water monitoring".split("|"),
        "nouns": "bitumen emissions watershed aquifer spill habitat tailings estuary glacier wetland salmon "
                 "caribou tanker refinery carbon permafrost drought wildfire biodiversity moratorium".split(),
        "labels": ["Environment", "Climate Change", "Pipelines"],
    },
    "justice": {
        "issues": "omnibus crime bill|mandatory minimum sentences|prison expansion|pardon rules|"
                  "long-gun registry|lawful access legislation|warrantless surveillance|solitary confinement|"
                  "young offenders law|police oversight|wrongful conviction review|court delays|"
                  "legal aid funding|victims' rights bill|drug policy|safe injection site".split("|"),
        "nouns": "sentencing inmate parole warrant prosecutor detention verdict appeal injunction subpoena "
                 "testimony affidavit penitentiary probation acquittal indictment custody bail".split(),
        "labels": ["Crime Bill", "Justice", "Civil Liberties"],
    },
    "democracy": {
        "issues": "robocalls investigation|prorogation|omnibus legislation|closure motions|"
                  "Senate expenses|election financing rules|voter suppression|access to information|"
                  "muzzled scientists|parliamentary secrecy|in-and-out scheme|Fair Elections Act|"
                  "committee hearings in camera|attack ads|riding boundaries|lobbying rules".split("|"),
        "nouns": "ballot riding caucus quorum filibuster prorogation whip transparency accountability "
                 "audit watchdog investigation subpoena disclosure patronage mandate referendum".split(),
        "labels": ["Democracy", "Harper Government", "Parliament"],
    },
    "indigenous": {
        "issues": "Idle No More protests|First Nations education act|housing crisis on reserves|"
                  "residential schools records|treaty negotiations|boil-water advisories|"
                  "missing and murdered women inquiry|land claims settlement|band financial transparency|"
                  "resource revenue sharing|hunger strike|child welfare funding".split("|"),
        "nouns": "reserve treaty chief elders band settlement hunger-strike blockade sovereignty consultation "
                 "inquiry funding housing water teachings territory".split(),
        "labels": ["First Nations", "Aboriginal Affairs", "Idle No More"],
    },
    "labour": {
        "issues": "back-to-work legislation|lockout|pension clawback|minimum wage increase|"
                  "temporary foreign workers|plant closure|collective bargaining rights|strike vote|"
                  "union dues disclosure|public-sector wage freeze|right-to-work proposal|"
                  "unpaid internships|contract talks".split("|"),
        "nouns": "picket lockout arbitration grievance bargaining wages overtime layoffs seniority contract "
                 "walkout mediator concessions pensions shifts payroll".split(),
        "labels": ["Labour", "Unions", "Workers"],
    },
    "health": {
        "issues": "health accord|drug shortages|hospital wait times|refugee health cuts|"
                  "pharmacare proposal|long-term care staffing|mental health funding|vaccine rollout|"
                  "food safety recall|tainted beef|asbestos exports|medical isotopes|doctor shortages".split("|"),
        "nouns": "patients clinic physicians prescriptions outbreak vaccine ward diagnosis treatment recall "
                 "contamination isotopes wait-list nurses pharmacies".split(),
        "labels": ["Health Care", "Food Safety"],
    },
    "foreign": {
        "issues": "F-35 fighter jet purchase|Afghan detainee documents|arms sales|embassy closure|"
                  "foreign investment review|Chinese takeover bid|trade agreement talks|refugee claims|"
                  "peacekeeping commitment|Arctic sovereignty|foreign aid cuts|consular cases|"
                  "Libya mission|Syria sanctions".split("|"),
        "nouns": "jets detainees embassy sanctions treaty diplomats procurement contract sovereignty refugees "
                 "tariffs negotiators mission warships allies".split(),
        "labels": ["Foreign Affairs", "Military", "Trade"],
    },
    "economy": {
        "issues": "housing bubble|household debt|manufacturing job losses|interest rate decision|"
                  "income inequality|youth unemployment|bank profits|foreign takeover|"
                  "oil price slump|currency swings|CEO pay|tax havens|payday lending".split("|"),
        "nouns": "mortgage debt inflation unemployment wages productivity exports dividends profits loonie "
                 "markets investors factories inequality bankruptcies".split(),
        "labels": ["Economy", "Inequality"],
    },
    "science": {
        "issues": "research funding cuts|long-form census|library closures|weather station cuts|"
                  "ocean monitoring program|ozone research|muzzling of scientists|archive destruction|"
                  "polar research station|fisheries science".split("|"),
        "nouns": "researchers laboratory data census archives monitoring grant libraries scientists "
                 "observations study findings datasets instruments".split(),
        "labels": ["Science", "Census", "War on Science"],
    },
}

ADJECTIVES = """
controversial sweeping unprecedented modest costly partisan secretive confidential abrupt unexpected
long-awaited contentious ambitious flawed troubling sharp steep widespread persistent urgent scathing
quiet blunt bitter fragile chronic federal provincial municipal internal independent preliminary final
interim revised detailed vague narrow broad aggressive cautious reluctant defiant heated lengthy brief
rare routine formal informal mounting growing declining record-breaking fiscal legal political regional
rural northern coastal remote aging dilapidated overdue underfunded overcrowded unsafe toxic crucial
minor major sudden gradual dramatic significant limited extensive expanded reduced amended
""".split()

ADVERBS = """
quietly abruptly sharply repeatedly publicly privately narrowly firmly reluctantly openly formally
initially eventually ultimately immediately gradually largely mostly partly nearly roughly
""".split()

SAY_VERBS = """
said|told reporters|argued|warned|insisted|acknowledged|conceded|noted|added|explained|countered|
maintained|suggested|predicted|complained|cautioned|stressed|wrote in an e-mail|told a news conference|
said in an interview|told the committee|said in a statement
""".replace("\n", "").split("|")

ACTION_VERBS = """
announced|unveiled|rejected|approved|delayed|cancelled|defended|criticized|postponed|extended|launched|
tabled|introduced|scrapped|reversed|expanded|trimmed|challenged|ordered|released|withheld|denied|
confirmed|revealed|questioned|endorsed|blocked|overhauled|froze|doubled|halved|restored|eliminated
""".replace("\n", "").split("|")

HEADLINE_VERBS = """
slams|defends|rejects|unveils|quietly drops|pushes ahead with|backs away from|takes aim at|warns of|
faces questions over|under fire for|vows to fight|calls for|scraps|delays|doubles down on|admits|
sounds alarm on|blasts|tables|moves to limit|pledges review of|promises|stalls|weighs
""".replace("\n", "").split("|")

TIME_PHRASES = """
on Monday|on Tuesday|on Wednesday|on Thursday|on Friday|on Saturday|on Sunday|last week|this week|
earlier this month|late last year|in the spring|over the summer|in recent weeks|since January|
two years ago|this fall|last month|in the coming months|by the end of the year|next spring
""".replace("\n", "").split("|")

GENERIC_NOUNS = """
proposal plan report review decision policy program rules regulations legislation amendment agreement
deal contract funding grant study document memo letter briefing records figures numbers estimates
warning complaint petition lawsuit motion vote debate hearing inquiry probe audit survey poll analysis
framework strategy initiative pilot project consultation meeting summit talks negotiations dispute
ruling order directive guideline standard target deadline timeline schedule budget allocation
community residents families taxpayers voters workers employees businesses industry sector region
province municipality government ministry agency department office committee panel board council
""".split()

CONNECTIVES = """
However,|Meanwhile,|At the same time,|Still,|In an interview,|By contrast,|Critics say|Supporters say|
According to the documents,|For now,|In the meantime,|Separately,|On top of that,|Even so,|
Under the changes,|In a report released|Behind closed doors,|Back in|As a result,|Since then,
""".replace("\n", "").split("|")

QUOTE_CLAUSES = """
this is simply not how a responsible government behaves|we were never consulted, not once|
the numbers do not add up and everyone in this room knows it|people deserve a straight answer|
it is going to hit the most vulnerable families first|we will be watching every step of this process|
nobody voted for this|there is no evidence that this will make anyone safer|
the damage will take a generation to repair|this was decided long before anyone asked us|
we are prepared to take this all the way to court|it sends exactly the wrong message|
they buried it in a bill hundreds of pages long|the science is clear and it has been ignored|
frankly, I was stunned when I read it|this is about accountability, plain and simple|
we have raised these concerns for years|the minister owes the public an explanation|
they are rewriting the rules in the middle of the game|it is a cynical move and a costly one|
our members will not accept these terms|it is a step in the right direction, but only a small one|
we are not going anywhere|these cuts will be felt in every small town|
nobody could tell us who made the call|the process has been a black box from the start
""".replace("\n", "").split("|")

SECTION_WORDS = """
politics national canada world business opinion commentary columnists editorials local news
""".split()
