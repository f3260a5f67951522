package demodata

// Word lists for the demo data: common given names and family names of the
// countries the cities are in, real cities with their countries, and the
// parts generated company names are made of.

var firstNames = []string{
	"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
	"David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
	"Christopher", "Nancy", "Daniel", "Lisa", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
	"Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
	"Kenneth", "Dorothy", "Kevin", "Carol", "Brian", "Amanda", "George", "Melissa", "Edward", "Deborah",
	"Ronald", "Stephanie", "Timothy", "Rebecca", "Jason", "Laura", "Jeffrey", "Sharon", "Ryan", "Cynthia",
	"Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Shirley", "Eric", "Angela", "Jonathan", "Helen",
	"Stephen", "Anna", "Larry", "Brenda", "Justin", "Pamela", "Scott", "Nicole", "Brandon", "Emma",
	"Benjamin", "Samantha", "Samuel", "Katherine", "Gregory", "Christine", "Frank", "Debra", "Alexander", "Rachel",
	"Raymond", "Catherine", "Patrick", "Carolyn", "Jack", "Janet", "Dennis", "Ruth", "Jerry", "Maria",
	"Pierre", "Marie", "Jean", "Nathalie", "Philippe", "Isabelle", "Nicolas", "Sophie", "Laurent", "Camille",
	"Hans", "Ursula", "Klaus", "Monika", "Jürgen", "Sabine", "Stefan", "Petra", "Lukas", "Lena",
	"Giuseppe", "Giulia", "Marco", "Francesca", "Alessandro", "Chiara", "José", "Carmen", "Antonio", "Lucía",
	"Javier", "Elena", "Hiroshi", "Yuki", "Kenji", "Sakura", "Wei", "Li", "Raj", "Priya",
	"Olivia", "Liam", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Chloé", "Léa", "Mathieu",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
	"Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
	"Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
	"Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
	"Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
	"Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
	"O'Brien", "O'Connor", "McDonald", "MacLeod", "Dubois", "Durand", "Lefebvre", "Moreau", "Laurent", "Fournier",
	"Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Müller", "Schmidt", "Schneider",
	"Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Rossi", "Russo",
	"Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Fernández", "González",
	"Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Wang", "Zhang", "Liu", "Chen", "Singh",
	"Kumar", "Sharma", "Silva", "Santos", "Oliveira", "Costa", "Jansen", "de Vries", "Van den Berg", "Andersson",
}

// cities are real cities with their countries.
var cities = []struct{ city, country string }{
	{"New York", "USA"}, {"Los Angeles", "USA"}, {"Chicago", "USA"}, {"Houston", "USA"}, {"Phoenix", "USA"},
	{"San Jose", "USA"}, {"San Francisco", "USA"}, {"Seattle", "USA"}, {"Boston", "USA"}, {"Austin", "USA"},
	{"Denver", "USA"}, {"Atlanta", "USA"}, {"Miami", "USA"}, {"Cupertino", "USA"}, {"Portland", "USA"},
	{"Toronto", "Canada"}, {"Montréal", "Canada"}, {"Vancouver", "Canada"}, {"Mexico City", "Mexico"}, {"Monterrey", "Mexico"},
	{"São Paulo", "Brazil"}, {"Rio de Janeiro", "Brazil"}, {"Buenos Aires", "Argentina"}, {"Santiago", "Chile"}, {"Bogotá", "Colombia"},
	{"London", "United Kingdom"}, {"Manchester", "United Kingdom"}, {"Edinburgh", "United Kingdom"}, {"Dublin", "Ireland"}, {"Cork", "Ireland"},
	{"Paris", "France"}, {"Lyon", "France"}, {"Marseille", "France"}, {"Toulouse", "France"}, {"Bordeaux", "France"},
	{"Nantes", "France"}, {"Lille", "France"}, {"Berlin", "Germany"}, {"Munich", "Germany"}, {"Hamburg", "Germany"},
	{"Frankfurt", "Germany"}, {"Cologne", "Germany"}, {"Stuttgart", "Germany"}, {"Zurich", "Switzerland"}, {"Geneva", "Switzerland"},
	{"Vienna", "Austria"}, {"Brussels", "Belgium"}, {"Antwerp", "Belgium"}, {"Amsterdam", "Netherlands"}, {"Rotterdam", "Netherlands"},
	{"Madrid", "Spain"}, {"Barcelona", "Spain"}, {"Valencia", "Spain"}, {"Lisbon", "Portugal"}, {"Porto", "Portugal"},
	{"Rome", "Italy"}, {"Milan", "Italy"}, {"Turin", "Italy"}, {"Naples", "Italy"}, {"Stockholm", "Sweden"},
	{"Oslo", "Norway"}, {"Copenhagen", "Denmark"}, {"Helsinki", "Finland"}, {"Warsaw", "Poland"}, {"Prague", "Czech Republic"},
	{"Budapest", "Hungary"}, {"Athens", "Greece"}, {"Istanbul", "Turkey"}, {"Tel Aviv", "Israel"}, {"Dubai", "United Arab Emirates"},
	{"Tokyo", "Japan"}, {"Osaka", "Japan"}, {"Seoul", "South Korea"}, {"Beijing", "China"}, {"Shanghai", "China"},
	{"Shenzhen", "China"}, {"Hong Kong", "China"}, {"Singapore", "Singapore"}, {"Bangalore", "India"}, {"Mumbai", "India"},
	{"Sydney", "Australia"}, {"Melbourne", "Australia"}, {"Auckland", "New Zealand"}, {"Johannesburg", "South Africa"}, {"Cape Town", "South Africa"},
}

// Company names are a first part and a second part: "Northwind Logistics".
var (
	companyFirst = []string{
		"Global", "United", "Northwind", "Blue Sky", "Summit", "Pioneer", "Evergreen", "Silverline", "Redwood", "Atlas",
		"Horizon", "Vertex", "Quantum", "Nova", "Apex", "Keystone", "Harbor", "Granite", "Meridian", "Falcon",
		"Orion", "Sterling", "Cascade", "Beacon", "Crescent", "Liberty", "Phoenix", "Riverside", "Lakeside", "Westfield",
		"Eastgate", "Brightstar", "Ironwood", "Oakridge", "Sunrise", "Polar", "Crystal", "Golden Gate", "Initech", "Globex",
		"Stark", "Wayne", "Umbrella", "Hooli", "Vandelay", "Soylent", "Tyrell", "Cyberdyne", "Wonka", "Gringotts",
	}
	companySecond = []string{
		"Systems", "Technologies", "Logistics", "Industries", "Solutions", "Holdings", "Partners", "Consulting", "Labs", "Networks",
		"Software", "Energy", "Foods", "Pharmaceuticals", "Manufacturing", "Capital", "Media", "Retail", "Robotics", "Analytics",
		"Aerospace", "Motors", "Textiles", "Chemicals", "Telecom", "Insurance", "Design", "Engineering", "Ventures", "Group",
	}
)
